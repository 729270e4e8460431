"""Review comments in a redline: placed on their exact quoted words, or reported, never guessed.

A comment names the block it quotes (by its id in the version it was made on, ``side``) and,
when known, the offsets of the quote in that block's normalised text.  It is placed where the
quote stands at those offsets, else where the quote occurs exactly once in the block; a quote
that is gone, ambiguous, hidden markup or inside a table is reported as not placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from repo_store.diff.blocks import Block
from repo_store.word.ooxml import (
    comments_extended_part,
    comments_part,
    word_date,
    xml_attribute,
    xml_text,
)
from repo_store.word.revisions import Mark

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
            start, end = at - hidden, at - hidden + len(comment.quote)
            ids = range(number, number + 1 + len(comment.replies))
            for n in ids:
                marks.append(Mark(start, False, f'<w:commentRangeStart w:id="{n}"/>', side))
                marks.append(
                    Mark(
                        end,
                        True,
                        f'<w:commentRangeEnd w:id="{n}"/>' + _REFERENCE.format(id=n),
                        side,
                    )
                )
            self._placed.append((number, comment))
        return marks

    def skip_table(self, block: Block, side: str) -> None:
        """Leave the comments on a table block unplaced: a quote may span cells."""
        self._by_block.pop((side, block.id), None)

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
