"""Revision marks of a redline: numbered w:ins/w:del/w:moveFrom/w:moveTo around word runs.

A paragraph's content is a list of segments ``(op, text)``: ``equal`` text belongs to both
versions, ``insert`` and ``move_to`` to the newer one only, ``delete`` and ``move_from`` to the
older one only.  Comment ranges are cut into the segments at offsets of one side's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from repo_store.diff.text import spaced_words, words
from repo_store.diff.words import WordBudget, match_tokens
from repo_store.word.ooxml import xml_attribute, xml_text

Segment = tuple[str, str]

# Which segments hold the text of each side.
SIDE_OPS = {"new": ("equal", "insert", "move_to"), "old": ("equal", "delete", "move_from")}
_WRAPPERS = {"insert": "ins", "delete": "del", "move_to": "moveTo", "move_from": "moveFrom"}


class Mark(NamedTuple):
    """XML to put at an offset of one side's text: a comment range's start or end."""

    offset: int
    is_end: bool
    xml: str
    side: str = "new"


class Revisions:
    """Hands out the revision ids of one document, all with the same author and date."""

    def __init__(self, author: str, date: str, first_id: int) -> None:
        self._who = f"w:author={xml_attribute(author)} w:date={xml_attribute(date)}"
        self._next = first_id

    def attributes(self) -> str:
        """The id, author and date of a new revision."""
        number = self._next
        self._next += 1
        return f'w:id="{number}" {self._who}'

    def mark(self, op: str) -> str:
        """A revision of a paragraph mark or a table row (``<w:ins .../>`` and the like)."""
        return f"<w:{_WRAPPERS[op]} {self.attributes()}/>"

    def move_range(self, op: str, name: str) -> tuple[str, str]:
        """The start and end of a move's range on one side; both sides share the name."""
        kind = "moveFromRange" if op == "move_from" else "moveToRange"
        number = self._next
        attributes = self.attributes()
        return (
            f'<w:{kind}Start {attributes} w:name="{name}"/>',
            f'<w:{kind}End w:id="{number}"/>',
        )

    def segment(self, op: str, text: str) -> str:
        """The runs of one segment, wrapped in its revision."""
        if not text:
            return ""
        if op == "equal":
            return f'<w:r><w:t xml:space="preserve">{xml_text(text)}</w:t></w:r>'
        tag = "delText" if op == "delete" else "t"
        inner = f'<w:r><w:{tag} xml:space="preserve">{xml_text(text)}</w:{tag}></w:r>'
        wrapper = _WRAPPERS[op]
        return f"<w:{wrapper} {self.attributes()}>{inner}</w:{wrapper}>"

    def content(self, segments: Sequence[Segment], marks: Sequence[Mark] = ()) -> str:
        """The runs of a paragraph, with the marks cut in at offsets of their side's text.

        An end goes right after the last character of its side before it; a start right
        before the first character of its side after it, so that a range holds exactly that
        side's characters between its offsets.
        """
        if not marks:
            return "".join(self.segment(op, text) for op, text in segments)
        position = {"new": 0, "old": 0}
        pending = sorted(marks, key=lambda m: (m.offset, not m.is_end))
        out: list[str] = []

        def place(sides: tuple[str, ...], local: int) -> None:
            # Ends of any side that are due, then the starts of the sides being written.
            for mark in list(pending):
                due = mark.offset - position[mark.side]
                if (mark.is_end and due <= (local if mark.side in sides else 0)) or (
                    not mark.is_end and mark.side in sides and due <= local
                ):
                    out.append(mark.xml)
                    pending.remove(mark)

        for op, text in segments:
            sides = tuple(side for side, ops in SIDE_OPS.items() if op in ops)
            cuts = {
                mark.offset - position[mark.side]
                for mark in pending
                if mark.side in sides and 0 < mark.offset - position[mark.side] < len(text)
            }
            start = 0
            for cut in [*sorted(cuts), len(text)]:
                place(sides, start)
                out.append(self.segment(op, text[start:cut]))
                start = cut
            for side in sides:
                position[side] += len(text)
        place((), 0)
        out.extend(mark.xml for mark in pending)
        return "".join(out)


def word_segments(old: str, new: str, budget: WordBudget) -> list[Segment]:
    """Diff two texts word by word into segments that rebuild each side exactly.

    The diff's own runs carry the newer text's spacing in the common words; here a common word
    whose spacing changed is deleted and inserted, so rejecting gives the older text to the
    character.
    """
    old_spaced, new_spaced = spaced_words(old), spaced_words(new)
    pairs = match_tokens(words(old), words(new), budget)
    segments: list[Segment] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1][0] == op:
            segments[-1] = (op, segments[-1][1] + text)
        else:
            segments.append((op, text))

    i = j = 0
    for pi, pj in [*pairs, (len(old_spaced), len(new_spaced))]:
        add("delete", "".join(old_spaced[i:pi]))
        add("insert", "".join(new_spaced[j:pj]))
        if pi < len(old_spaced) and pj < len(new_spaced):
            if old_spaced[pi] == new_spaced[pj]:
                add("equal", new_spaced[pj])
            else:
                add("delete", old_spaced[pi])
                add("insert", new_spaced[pj])
        i, j = pi + 1, pj + 1
    # Anything the token pattern does not cover (trailing space) is kept whole.
    old_rest = old[len("".join(old_spaced)) :]
    new_rest = new[len("".join(new_spaced)) :]
    if old_rest == new_rest:
        add("equal", new_rest)
    else:
        add("delete", old_rest)
        add("insert", new_rest)
    return segments


def side_text(segments: Sequence[Segment], side: str) -> str:
    """The text of one side of the segments."""
    consuming = SIDE_OPS[side]
    return "".join(text for op, text in segments if op in consuming)
