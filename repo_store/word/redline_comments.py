"""Review comments in a redline: placed on their exact quoted words, or reported, never guessed.

A comment names the block it quotes (by its id in the version it was made on, ``side``) and,
when known, the offsets of the quote in that block's normalised text.  It is placed where the
quote stands at those offsets, else where the quote occurs exactly once in the block; a quote
that is gone, ambiguous, hidden markup or across table cells is reported as not placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from repo_store.diff.blocks import Block
from repo_store.word.layout import Row
from repo_store.word.ooxml import (
    comments_extended_part,
    comments_part,
    word_date,
    xml_attribute,
    xml_text,
)
from repo_store.word.revisions import Mark

# Comment marks on the cells of a table block, by (row, cell) index.
CellMarks = dict[tuple[int, int], list[Mark]]

_REFERENCE = (
    '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr>'
    '<w:commentReference w:id="{id}"/></w:r>'
)


@dataclass(frozen=True)
class WordComment:
    """A review comment to show in Word, with its replies as (author, date, body)."""

    id: str
    author: str
    date: datetime
    body: str
    quote: str
    block_id: str
    start: int | None = None  # offsets of the quote in the block's normalised text
    end: int | None = None
    side: str = "new"  # the version the block id and offsets belong to: "new" or "old"
    replies: tuple[tuple[str, datetime, str], ...] = ()


class CommentPlacer:
    """Finds each comment's place while the redline is written, and writes the comment parts."""

    def __init__(self, comments: Sequence[WordComment]) -> None:
        self._by_block: dict[tuple[str, str], list[tuple[int, WordComment]]] = {}
        number = 0
        for comment in comments:
            self._by_block.setdefault((comment.side, comment.block_id), []).append(
                (number, comment)
            )
            number += 1 + len(comment.replies)
        self.first_free_id = number
        self._comments = comments
        self._placed: list[tuple[int, WordComment]] = []

    @property
    def placed(self) -> int:
        return len(self._placed)

    def not_placed(self) -> tuple[str, ...]:
        placed = {id(comment) for _, comment in self._placed}
        return tuple(c.id for c in self._comments if id(c) not in placed)

    def marks(self, side: str, block: Block, hidden: int) -> list[Mark]:
        """The comment ranges on a block shown on one side, offsets in its shown text."""
        found = self._by_block.pop((side, block.id), None)
        marks: list[Mark] = []
        for number, comment in found or ():
            at = _locate(comment, block.text)
            if at is None or at < hidden:
                continue
            start = at - hidden
            marks.extend(self._range(number, comment, side, start, start + len(comment.quote)))
        return marks

    def cell_marks(self, side: str, block: Block, rows: Sequence[Row]) -> CellMarks:
        """The comment ranges on a table block, by (row, cell), offsets in the cell's text.

        A quote is placed only if it lies within one cell; one across cells is not placed.
        """
        found = self._by_block.pop((side, block.id), None)
        marks: CellMarks = {}
        for number, comment in found or ():
            at = _locate(comment, block.text)
            if at is None:
                continue
            cell = _cell_holding(rows, at, at + len(comment.quote))
            if cell is None:
                continue
            row, column, start = cell
            marks.setdefault((row, column), []).extend(
                self._range(number, comment, side, start, start + len(comment.quote))
            )
        return marks

    def _range(
        self, number: int, comment: WordComment, side: str, start: int, end: int
    ) -> list[Mark]:
        """The marks of a comment and its replies around ``start``-``end`` of a side's text."""
        marks = []
        for n in range(number, number + 1 + len(comment.replies)):
            marks.append(Mark(start, False, f'<w:commentRangeStart w:id="{n}"/>', side))
            reference = f'<w:commentRangeEnd w:id="{n}"/>' + _REFERENCE.format(id=n)
            marks.append(Mark(end, True, reference, side))
        self._placed.append((number, comment))
        return marks

    def parts(self) -> tuple[bytes, bytes] | None:
        """word/comments.xml and word/commentsExtended.xml, or None if nothing was placed."""
        if not self._placed:
            return None
        comments: list[str] = []
        extended: list[str] = []
        for number, comment in sorted(self._placed, key=lambda pair: pair[0]):
            parent = _para_id(number)
            comments.append(_comment(number, comment.author, comment.date, comment.body))
            extended.append(f'<w15:commentEx w15:paraId="{parent}" w15:done="0"/>')
            for offset, (author, date, body) in enumerate(comment.replies, start=1):
                comments.append(_comment(number + offset, author, date, body))
                extended.append(
                    f'<w15:commentEx w15:paraId="{_para_id(number + offset)}" '
                    f'w15:paraIdParent="{parent}" w15:done="0"/>'
                )
        return comments_part(comments), comments_extended_part(extended)


def _locate(comment: WordComment, text: str) -> int | None:
    """Where the quote stands in the block text: at its offsets, else its only occurrence."""
    quote = comment.quote
    if not quote:
        return None
    start, end = comment.start, comment.end
    if start is not None and end is not None and 0 <= start and text[start:end] == quote:
        return start
    first = text.find(quote)
    if first < 0 or text.find(quote, first + 1) >= 0:
        return None
    return first


def _cell_holding(rows: Sequence[Row], start: int, end: int) -> tuple[int, int, int] | None:
    """The (row, cell, offset in the cell) of a quote that lies within one cell's text."""
    for r, row in enumerate(rows):
        for c, (cell, at) in enumerate(zip(row.cells, row.starts, strict=True)):
            if 0 <= at <= start and end <= at + len(cell):
                return r, c, start - at
    return None


def _para_id(number: int) -> str:
    """The w14:paraId of a comment's last paragraph (below 0x80000000, as Word requires)."""
    return f"{number + 1:08X}"


def _comment(number: int, author: str, date: datetime, body: str) -> str:
    lines = body.splitlines() or [""]
    initials = "".join(part[:1] for part in author.split()[:3])
    paragraphs = []
    for n, line in enumerate(lines):
        para_id = (
            f' w14:paraId="{_para_id(number)}" w14:textId="77777777"' if n == len(lines) - 1 else ""
        )
        reference = (
            '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr><w:annotationRef/></w:r>'
            if n == 0
            else ""
        )
        text = f'<w:r><w:t xml:space="preserve">{xml_text(line)}</w:t></w:r>' if line else ""
        paragraphs.append(
            f'<w:p{para_id}><w:pPr><w:pStyle w:val="CommentText"/></w:pPr>{reference}{text}</w:p>'
        )
    return (
        f'<w:comment w:id="{number}" w:author={xml_attribute(author)} '
        f"w:date={xml_attribute(word_date(date))} w:initials={xml_attribute(initials)}>"
        f"{''.join(paragraphs)}</w:comment>"
    )
