"""Round trip through peerlex's own Word reader: accept all gives the newer stored text, reject
all the older, to the character, for text stored as the reader stores it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from repo_store.diff import diff_texts
from repo_store.diff.blocks import parse_blocks
from repo_store.word.reader import read_docx
from repo_store.word.redline import WordComment, redline_to_docx
from repo_store.word.writer import text_to_docx
from tests.repo_store.word.redline_cases import PAIRS

WHEN = datetime(2026, 12, 4, 11, 45, tzinfo=UTC)
# Stored with a Markdown header rule and rows on consecutive lines, which Word cannot keep.
NOT_AS_READ = {"control-list-table"}


def as_read(text: str) -> str:
    """A text as the reader writes it: its blocks, unwrapped, separated by blank lines."""
    blocks = [block.text for block in parse_blocks(text)]
    return "\n\n".join(blocks) + "\n" if blocks else ""


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_version_docx_reads_back_as_the_stored_text(name: str) -> None:
    for text in PAIRS[name]:
        read = read_docx(text_to_docx(text, language="ru")).text
        if name not in NOT_AS_READ:
            assert read == as_read(text)
            assert read_docx(text_to_docx(read)).text == read


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_accept_all_reads_newer_and_reject_all_older(name: str) -> None:
    old, new = PAIRS[name]
    if name not in NOT_AS_READ:
        old, new = as_read(old), as_read(new)
    data = redline_to_docx(diff_texts(old, new), author="BLR", date=WHEN, old_text=old).data
    accepted = read_docx(data, revisions="accept").text
    rejected = read_docx(data, revisions="reject").text
    if name in NOT_AS_READ:
        assert accepted == read_docx(text_to_docx(new)).text
        assert rejected == read_docx(text_to_docx(old)).text
    else:
        assert accepted == new
        assert rejected == old


def test_comments_do_not_change_what_accept_and_reject_give() -> None:
    old, new = (as_read(text) for text in PAIRS["english-moves"])
    block = next(b for b in parse_blocks(new) if "one year" in b.text)
    comment = WordComment("c1", "KAZ", WHEN, "ok?", "one year", block.id)
    result = redline_to_docx(
        diff_texts(old, new), author="BLR", date=WHEN, comments=[comment], old_text=old
    )
    assert result.placed == 1
    assert read_docx(result.data, revisions="accept").text == new
    assert read_docx(result.data, revisions="reject").text == old
