"""Accept all gives the newer version and reject all the older, for many random edits."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from repo_store.diff import diff_texts
from repo_store.word.reader import read_docx
from repo_store.word.redline import redline_to_docx
from repo_store.word.writer import text_to_docx
from tests.repo_store.word.docx_tools import resolved_blocks
from tests.repo_store.word.test_redline_reader import as_read

WHEN = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
WORDS = (
    "экспорт товаров двойного назначения лицензия орган контроль перечень срок "
    "export licence authority goods list end-user control , . ; «» - № §"
).split()


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _block(rng: random.Random, n: int) -> str:
    kind = rng.random()
    if kind < 0.1:
        return f"{'#' * rng.randint(1, 3)} {_words(rng, 1, 5)}"
    if kind < 0.3:
        return f"Статья {n}. {_words(rng, 1, 4)}"
    if kind < 0.5:
        return f"({rng.randint(1, 9)}) {_words(rng, 3, 15)}"
    if kind < 0.6:
        return f"{rng.choice('абвг')}) {_words(rng, 2, 8)}"
    if kind < 0.75:
        # A row's first cell is its entry number: the reader leaves out rows with no text.
        cells = [f"{n}.{rng.randint(1, 9)}", *(_words(rng, 0, 3) for _ in range(2))]
        return "| " + " | ".join(cells) + " |"
    return _words(rng, 4, 25)


def _edited(rng: random.Random, blocks: list[str]) -> list[str]:
    out = list(blocks)
    for _ in range(rng.randint(1, 8)):
        action = rng.random()
        if not out or action < 0.2:
            out.insert(rng.randint(0, len(out)), _block(rng, rng.randint(50, 99)))
        elif action < 0.35:
            del out[rng.randrange(len(out))]
        elif action < 0.5:
            moved = out.pop(rng.randrange(len(out)))
            out.insert(rng.randint(0, len(out)), moved)
        else:
            at = rng.randrange(len(out))
            tokens = out[at].split(" ")
            spot = rng.randrange(len(tokens))
            if tokens[spot] in ("|", "#", "##", "###") or spot <= 1:
                tokens.insert(spot + 1, rng.choice(WORDS))
            else:
                tokens[spot] = rng.choice([*WORDS, ""])
            out[at] = " ".join(t for t in tokens if t) or "текст"
    return out


@pytest.mark.parametrize("seed", range(200))
def test_random_edits_accept_newer_reject_older(seed: int) -> None:
    rng = random.Random(seed)
    blocks = [_block(rng, n) for n in range(1, rng.randint(2, 30))]
    old = as_read("\n\n".join(blocks))
    new = as_read("\n\n".join(_edited(rng, blocks)))
    data = redline_to_docx(diff_texts(old, new), author="P", date=WHEN, old_text=old).data
    assert resolved_blocks(data, "accept") == resolved_blocks(text_to_docx(new), "accept")
    assert resolved_blocks(data, "reject") == resolved_blocks(text_to_docx(old), "accept")
    assert read_docx(data, revisions="accept").text == new
    assert read_docx(data, revisions="reject").text == old


def _markdown_table(rng: random.Random, rows: list[list[str]]) -> str:
    header = "| № | Наименование | Код |\n|---|---|---|\n"
    return header + "\n".join("| " + " | ".join(row) + " |" for row in rows)


@pytest.mark.parametrize("seed", range(60))
def test_random_edits_of_a_markdown_table(seed: int) -> None:
    """A table on consecutive lines under a header rule: one block, its rows found again."""
    rng = random.Random(seed)
    rows = [[f"{n}", _words(rng, 0, 4), _words(rng, 0, 2)] for n in range(1, rng.randint(2, 12))]
    edited = [list(row) for row in rows]
    for _ in range(rng.randint(1, 5)):
        action = rng.random()
        if action < 0.3:
            edited.insert(
                rng.randint(0, len(edited)), [f"{rng.randint(50, 99)}", _words(rng, 1, 3), ""]
            )
        elif action < 0.5 and len(edited) > 1:
            del edited[rng.randrange(len(edited))]
        elif edited:
            row = edited[rng.randrange(len(edited))]
            row[rng.randint(1, 2)] = _words(rng, 0, 4)
    before = f"Статья 1. Перечень\n\n{_markdown_table(rng, rows)}\n\nКонец перечня.\n"
    after = f"Статья 1. Перечень\n\n{_markdown_table(rng, edited)}\n\nКонец перечня.\n"
    data = redline_to_docx(diff_texts(before, after), author="P", date=WHEN, old_text=before).data
    assert resolved_blocks(data, "accept") == resolved_blocks(text_to_docx(after), "accept")
    assert resolved_blocks(data, "reject") == resolved_blocks(text_to_docx(before), "accept")
    assert (
        len([b for b in resolved_blocks(text_to_docx(after), "accept") if b[0] == "|"])
        == len(edited) + 1
    )
