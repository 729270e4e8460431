"""Table rows in a redline: rows aligned between versions, each inserted, deleted or edited.

A changed table block is compared row by row: rows equal in both stay as they are, a row with
the same number of cells and at least half its words kept is edited cell by cell, and any
other row is deleted or inserted whole, with the row itself marked (``w:trPr/w:ins|w:del``)
so that accepting or rejecting removes it rather than leaving it empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import SequenceMatcher
from typing import NamedTuple

from repo_store.diff.text import words
from repo_store.diff.words import WordBudget
from repo_store.word.layout import Row, RowXml
from repo_store.word.redline_comments import CellMarks
from repo_store.word.revisions import Revisions, word_segments

# How much of two rows' wording must agree for them to be shown as one row edited.
ALIKE = 0.5


class Sides(NamedTuple):
    """The comment marks on the cells of a table's older and newer rows."""

    old: CellMarks
    new: CellMarks


def changed_rows(
    old: list[Row], new: list[Row], revisions: Revisions, budget: WordBudget, marks: Sides
) -> Iterator[RowXml]:
    """Yield the rows of a changed table, older rows removed and newer ones added as marks."""
    matcher = SequenceMatcher(None, [r.cells for r in old], [r.cells for r in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = 0
        if tag == "equal":
            paired = i2 - i1
        else:
            while (
                i1 + paired < i2
                and j1 + paired < j2
                and len(old[i1 + paired].cells) == len(new[j1 + paired].cells)
                and old[i1 + paired].header == new[j1 + paired].header
                and _alike(old[i1 + paired], new[j1 + paired])
            ):
                paired += 1
        for k in range(paired):
            i, j = i1 + k, j1 + k
            before, after = old[i], new[j]
            yield RowXml(
                tuple(
                    revisions.content(
                        word_segments(a, b, budget) if a != b else [("equal", b)],
                        [*marks.old.get((i, c), ()), *marks.new.get((j, c), ())],
                    )
                    for c, (a, b) in enumerate(zip(before.cells, after.cells, strict=True))
                ),
                after.header,
            )
        for i in range(i1 + paired, i2):
            yield whole_row(old, i, "delete", revisions, marks.old)
        for j in range(j1 + paired, j2):
            yield whole_row(new, j, "insert", revisions, marks.new)


def _alike(old: Row, new: Row) -> bool:
    """Whether two rows are one entry edited rather than one entry replaced by another: at
    least half of their words in common, in order."""
    a, b = words(" ".join(old.cells)), words(" ".join(new.cells))
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= ALIKE


def whole_row(rows: list[Row], r: int, op: str, revisions: Revisions, marks: CellMarks) -> RowXml:
    """Row ``r`` inserted or deleted whole, the row itself marked as well as its text."""
    row = rows[r]
    cells = tuple(
        revisions.content([(op, cell)], marks.get((r, c), ())) for c, cell in enumerate(row.cells)
    )
    return RowXml(cells, row.header, revisions.mark(op))
