"""Write the comparison of two versions as a .docx with real revision marks and Word comments.

Accepting every change gives the newer version laid out as ``text_to_docx`` lays it out,
rejecting every change the older one (docs/formats.md, "Word documents out").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from repo_store.diff.blocks import Block, parse_blocks
from repo_store.diff.textdiff import BlockDiff, TextDiff
from repo_store.diff.words import WordBudget
from repo_store.word.layout import (
    TABLE,
    Unit,
    assemble,
    paragraph,
    shape_of,
    shown_text,
    table_rows,
)
from repo_store.word.ooxml import document_part, package, word_date
from repo_store.word.redline_comments import CommentPlacer, WordComment
from repo_store.word.redline_tables import Sides, changed_rows, whole_row
from repo_store.word.revisions import Revisions, Segment, word_segments

__all__ = ["RedlineDocx", "WordComment", "redline_to_docx"]


@dataclass(frozen=True)
class RedlineDocx:
    """A redline .docx and which comments it could place on their quoted words."""

    data: bytes
    placed: int
    not_placed: tuple[str, ...]


def redline_to_docx(
    diff: TextDiff,
    *,
    author: str,
    date: datetime,
    comments: Sequence[WordComment] = (),
    title: str | None = None,
    language: str | None = None,
    old_text: str | None = None,
) -> RedlineDocx:
    """Write a comparison as tracked changes by ``author`` at ``date``, with the comments.

    ``old_text`` (the older version's text) is needed when the comparison has moves: the diff
    lists blocks in the newer order, and only the older text says where a moved block stood.
    """
    placer = CommentPlacer(comments)
    revisions = Revisions(author, word_date(date), placer.first_free_id)
    writer = _Redline(revisions, placer)
    units: list[Unit] = []
    for item in _in_both_orders(diff.blocks, old_text):
        units.extend(writer.units(item))
    body = assemble(units)
    parts = placer.parts()
    data = package(
        document_part(body),
        title=title,
        language=language,
        comments=parts[0] if parts else None,
        comments_extended=parts[1] if parts else None,
    )
    return RedlineDocx(data, placer.placed, placer.not_placed())


# An entry of the comparison at its place in the newer order, or ("from", entry): the older
# place of a moved block.
_Item = tuple[str, BlockDiff]


def _in_both_orders(entries: Sequence[BlockDiff], old_text: str | None) -> list[_Item]:
    """Put each moved block's older place among the entries, before the entry of the next
    older block that did not move (at the end if none)."""
    items: list[_Item] = [("at", entry) for entry in entries]
    moved = [entry for entry in entries if entry.op == "move"]
    if not moved:
        return items
    if old_text is None:
        raise ValueError("a comparison with moves needs the older text to place them")
    old_blocks = parse_blocks(old_text)
    old_index = {block.id: n for n, block in enumerate(old_blocks)}
    moved_ids = {entry.old.id for entry in moved if entry.old is not None}
    entry_of_old = {
        entry.old.id: n
        for n, entry in enumerate(entries)
        if entry.old is not None and entry.op != "move"
    }
    before: dict[int, list[tuple[int, BlockDiff]]] = {}
    for entry in moved:
        # A move pairs an older block with a newer one, so entry.old is set.
        n = old_index.get(entry.shown.id if entry.old is None else entry.old.id)
        if n is None:
            raise ValueError("the older text is not the one the comparison was made from")
        place = len(entries)
        for later in old_blocks[n + 1 :]:
            if later.id not in moved_ids:
                place = entry_of_old.get(later.id, len(entries))
                break
        before.setdefault(place, []).append((n, entry))
    out: list[_Item] = []
    for n, item in enumerate([*items, None]):
        for _, entry in sorted(before.get(n, ()), key=lambda pair: pair[0]):
            out.append(("from", entry))
        if item is not None:
            out.append(item)
    return out


class _Redline:
    """Lays out the items of one comparison with one set of revision ids."""

    def __init__(self, revisions: Revisions, placer: CommentPlacer) -> None:
        self.revisions = revisions
        self.placer = placer
        self.budget = WordBudget()
        self._move_names: dict[str, str] = {}
        self._moved_words: dict[str, list[Segment]] = {}

    def units(self, item: _Item) -> list[Unit]:
        where, entry = item
        old, new = entry.old, entry.new
        if where == "from" and old is not None:
            if _is_move(entry):
                return [self._moved(entry, "move_from")]
            return [self._whole(old, "delete")]
        if _is_move(entry) and new is not None:
            return [self._moved(entry, "move_to")]
        if new is not None and (old is None or entry.op == "move"):
            return [self._whole(new, "insert")]
        if new is None:
            return [self._whole(entry.shown, "delete")]
        if old is None:
            return []
        return self._paired(old, new)

    def _paired(self, old: Block, new: Block) -> list[Unit]:
        old_shape, new_shape = shape_of(old), shape_of(new)
        if old_shape.style == TABLE and new_shape.style == TABLE:
            return [self._table_rows(old, new)]
        if old_shape != new_shape or (old_shape.style == TABLE) != (new_shape.style == TABLE):
            return [self._whole(old, "delete"), self._whole(new, "insert")]
        old_shown, new_shown = shown_text(old, old_shape), shown_text(new, new_shape)
        if old_shown == new_shown:
            segments: list[Segment] = [("equal", new_shown)]
        else:
            segments = word_segments(old_shown, new_shown, self.budget)
        marks = self.placer.marks("new", new, new_shape.hidden)
        marks += self.placer.marks("old", old, old_shape.hidden)
        content = self.revisions.content(segments, marks)
        return [Unit(paragraph(new_shape.style, content))]

    def _whole(self, block: Block, op: str) -> Unit:
        """A block inserted or deleted whole, its paragraph mark (or rows) included."""
        shape = shape_of(block)
        if shape.style == TABLE:
            return self._whole_rows(block, op)
        side = "new" if op == "insert" else "old"
        marks = self.placer.marks(side, block, shape.hidden)
        content = self.revisions.content([(op, shown_text(block, shape))], marks)
        return Unit(paragraph(shape.style, content, self.revisions.mark(op)))

    def _moved(self, pair: BlockDiff, op: str) -> Unit:
        """One side of a moved provision, inside its named move range.

        Words changed as well as moved show where they belong to: inserted words at the newer
        place, inside the move, and deleted words at the older place, so that rejecting
        removes everything at the newer place and accepting everything at the older one.
        """
        block = pair.new if op == "move_to" else pair.old
        if block is None or pair.old is None or pair.new is None:
            return Unit("")
        shape = shape_of(block)
        side = "new" if op == "move_to" else "old"
        start, end = self.revisions.move_range(op, self._move_name(pair))
        mark = self.revisions.mark(op)
        marks = self.placer.marks(side, block, shape.hidden)
        content = self.revisions.content(self._move_segments(pair, op), marks)
        return Unit(paragraph(shape.style, start + content + end, mark))

    def _move_segments(self, pair: BlockDiff, op: str) -> list[Segment]:
        old, new = pair.old, pair.new
        if old is None or new is None:
            return []
        old_shape, new_shape = shape_of(old), shape_of(new)
        old_shown, new_shown = shown_text(old, old_shape), shown_text(new, new_shape)
        if old_shape != new_shape or old_shown == new_shown:
            return [(op, new_shown if op == "move_to" else old_shown)]
        # Both sides of a move diff the same two texts; the budget is spent on the first only.
        segments = self._moved_words.pop(old.id, None)
        if segments is None:
            segments = word_segments(old_shown, new_shown, self.budget)
            self._moved_words[old.id] = segments
        own = "insert" if op == "move_to" else "delete"
        return [
            (op if kind == "equal" else kind, text)
            for kind, text in segments
            if kind in ("equal", own)
        ]

    def _move_name(self, pair: BlockDiff) -> str:
        """The name both ranges of a move share; either side may come first in the body."""
        key = pair.old.id if pair.old is not None else ""
        return self._move_names.setdefault(key, f"move{len(self._move_names) + 1}")

    def _whole_rows(self, block: Block, op: str) -> Unit:
        """A table block inserted or deleted whole: each row and its cells marked."""
        rows = table_rows(block.text)
        marks = self.placer.cell_marks("new" if op == "insert" else "old", block, rows)
        return Unit(
            "", tuple(whole_row(rows, r, op, self.revisions, marks) for r in range(len(rows)))
        )

    def _table_rows(self, old: Block, new: Block) -> Unit:
        old_rows, new_rows = table_rows(old.text), table_rows(new.text)
        marks = Sides(
            self.placer.cell_marks("old", old, old_rows),
            self.placer.cell_marks("new", new, new_rows),
        )
        rows = changed_rows(old_rows, new_rows, self.revisions, self.budget, marks)
        return Unit("", tuple(rows))


def _is_move(entry: BlockDiff) -> bool:
    """Whether an entry is shown as a move: a paragraph on both sides (table rows that moved
    are deleted and inserted instead)."""
    return (
        entry.op == "move"
        and entry.old is not None
        and entry.new is not None
        and shape_of(entry.old).style != TABLE
        and shape_of(entry.new).style != TABLE
    )
