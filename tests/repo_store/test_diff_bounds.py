"""The comparison stays fast on adversarial input: no quadratic blow-up."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from repo_store.anchor import Anchor, reanchor
from repo_store.diff import diff_texts, normalise_text, parse_blocks
from repo_store.diff.blocks import parse_versions
from repo_store.diff.text import words
from tests.support.diff_oracle import apply_ops

LIMIT_SECONDS = 2.0


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def random_words(rng: random.Random, count: int, vocabulary: int) -> list[str]:
    return [f"слово{rng.randrange(vocabulary)}" for _ in range(count)]


def long_line(seed: int, vocabulary: int) -> str:
    rng = random.Random(seed)
    line = " ".join(random_words(rng, 30_000, vocabulary))
    return line[:200_000]


def scattered_edits(text: str, seed: int, edits: int) -> str:
    rng = random.Random(seed)
    tokens = text.split(" ")
    for _ in range(edits):
        tokens[rng.randrange(len(tokens))] = "правка"
    return " ".join(tokens)


@pytest.mark.parametrize("vocabulary", [2, 300, 100_000])
@pytest.mark.parametrize("edits", [0, 50, 5_000])
def test_a_200000_character_line(vocabulary: int, edits: int) -> None:
    old = long_line(1, vocabulary)
    assert len(old) == 200_000
    assert "\n" not in old
    new = scattered_edits(old, 2, edits)
    assert timed(lambda: diff_texts(old, new).to_json()) < LIMIT_SECONDS
    assert apply_ops(diff_texts(old, new), old) == words(new)


def test_a_200000_character_line_against_another() -> None:
    old, new = long_line(1, 300), long_line(3, 300)
    assert timed(lambda: diff_texts(old, new).to_json()) < LIMIT_SECONDS


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n\n" * 50_000, "\n\n" * 50_001 + "x"),
        (" \n\t\n\u00a0\n" * 50_000, "Article 1. Scope\n" + " \n\n" * 50_000),
        ("Article 1. Scope\n\n" + "\n\n" * 50_000, "\n\n" * 50_000 + "Article 1. Scope\n"),
    ],
)
def test_50000_empty_paragraphs(old: str, new: str) -> None:
    assert timed(lambda: diff_texts(old, new).to_json()) < LIMIT_SECONDS


# 50,000 blocks on each side, all alike: ids repeat, wordings repeat, nothing is unique.
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("x\n\n" * 50_000, "y\n\n" + "x\n\n" * 50_000),
        ("(1) x\n\n" * 50_000, "(1) x\n\n" * 25_000 + "(2) y\n\n" + "(1) x\n\n" * 25_000),
        ("- a\n\n" * 50_000, "- b\n\n" * 50_000),
    ],
)
def test_50000_repeated_paragraphs(old: str, new: str) -> None:
    assert timed(lambda: diff_texts(old, new).to_json()) < 3 * LIMIT_SECONDS


def test_every_paragraph_rewritten() -> None:
    rng = random.Random(5)
    old = "\n\n".join(" ".join(random_words(rng, 12, 5_000)) for _ in range(5_000))
    new = "\n\n".join(" ".join(random_words(rng, 12, 5_000)) for _ in range(5_000))
    assert timed(lambda: diff_texts(old, new).to_json()) < LIMIT_SECONDS


def test_reanchoring_onto_a_long_line_is_bounded() -> None:
    old = long_line(1, 300)
    new = normalise_text(scattered_edits(old, 2, 2_000))
    anchors = [
        Anchor("p1", at, at + 60, old[at : at + 60], "", "") for at in range(0, 190_000, 1_000)
    ]
    assert timed(lambda: reanchor(anchors, old, new)) < LIMIT_SECONDS


def numbered_law(articles: int) -> str:
    return "".join(
        f"Статья {n}. Заголовок {n}\n\nТекст статьи {n}.\n\n" for n in range(1, articles)
    )


# A long unchanged run that the second version cannot take whole: an id renamed at its end in
# the old version, or given already by a block the new version put in front of it.
@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            numbered_law(20_000) + "Статья 1. Повтор\n",
            "Преамбула.\n\n" + numbered_law(20_000) + "Статья 1. Повтор\n",
        ),
        (numbered_law(20_000), "Статья 19999. Раньше\n\n" + numbered_law(20_000)),
        (numbered_law(20_000), "Статья 2. Раньше\n\n" + numbered_law(20_000)),
    ],
)
def test_long_runs_that_cannot_be_reused_whole(old: str, new: str) -> None:
    assert timed(lambda: diff_texts(old, new).to_json()) < 3 * LIMIT_SECONDS
    assert parse_versions(old, new) == (parse_blocks(old), parse_blocks(new))
