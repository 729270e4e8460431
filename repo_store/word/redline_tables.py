"""Table rows in a redline: rows aligned between versions, each inserted, deleted or edited.

A changed table block is compared row by row: rows equal in both stay as they are, a row with
the same number of cells is edited cell by cell, and any other row is deleted or inserted
whole, with the row itself marked (``w:trPr/w:ins|w:del``) so that accepting or rejecting
removes it rather than leaving it empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import SequenceMatcher

from repo_store.diff.blocks import Block
from repo_store.diff.words import WordBudget
from repo_store.word.layout import Row, RowXml, table_rows
from repo_store.word.revisions import Revisions, word_segments


def rows_of(block: Block) -> list[Row]:
    """The rows of a table block."""
    return table_rows(block.text)


def changed_rows(
    old: list[Row], new: list[Row], revisions: Revisions, budget: WordBudget
) -> Iterator[RowXml]:
    """Yield the rows of a changed table, older rows removed and newer ones added as marks."""
    matcher = SequenceMatcher(None, [r.cells for r in old], [r.cells for r in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for row in new[j1:j2]:
                yield RowXml(tuple(revisions.segment("equal", c) for c in row.cells), row.header)
            continue
        olds, news = old[i1:i2], new[j1:j2]
        paired = 0
        while (
            paired < len(olds)
            and paired < len(news)
            and len(olds[paired].cells) == len(news[paired].cells)
            and olds[paired].header == news[paired].header
        ):
            paired += 1
        for before, after in zip(olds[:paired], news[:paired], strict=True):
            yield RowXml(
                tuple(
                    revisions.content(word_segments(a, b, budget))
                    for a, b in zip(before.cells, after.cells, strict=True)
                ),
                after.header,
            )
        for row in olds[paired:]:
            yield _whole_row(row, "delete", revisions)
        for row in news[paired:]:
            yield _whole_row(row, "insert", revisions)


def _whole_row(row: Row, op: str, revisions: Revisions) -> RowXml:
    cells = tuple(revisions.segment(op, cell) for cell in row.cells)
    return RowXml(cells, row.header, revisions.mark(op))
