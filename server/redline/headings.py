"""Headings as headings: the level of a Markdown heading block and its text without the ``#``.

A heading block's text keeps its marker (``## Глава 1``) so that the diff sees a change of
level; a reader should see a heading, not the marks that make one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MARKS_RE = re.compile(r"\s*#+(?=\s|$)\s*")


def heading_level(kind: str, text: str) -> int | None:
    """Return the level of a heading block (1 for ``#`` or an unmarked heading), else None."""
    if kind != "heading":
        return None
    marks = len(text) - len(text.lstrip("#"))
    return min(max(marks, 1), 6)


def heading_tag(level: int, top: int = 2) -> str:
    """Return the HTML element for a heading of this level under a page's own ``h{top-1}``."""
    return f"h{min(level + top - 1, 6)}"


def without_marks(runs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop the leading ``#`` marks (and the space after them) from a heading's word runs.

    Each side starts with its own marks: when the level changed (``## A`` became ``### B``),
    the old side's first run is deleted text and the new side's first run inserted text, and
    both are trimmed; a run the marks alone made up is dropped.
    """
    out: list[tuple[str, str]] = []
    old_leading = new_leading = True
    for op, text in runs:
        leading = (op != "insert" and old_leading) or (op != "delete" and new_leading)
        if leading:
            text = _trim(text)
            if not text.strip():
                continue
        if op != "insert":
            old_leading = False
        if op != "delete":
            new_leading = False
        out.append((op, text))
    return out


def _trim(text: str) -> str:
    """The text after any ``#`` marks at its start, without the space before its words."""
    match = _MARKS_RE.match(text)
    while match is not None and match.end() > 0:
        text = text[match.end() :]
        match = _MARKS_RE.match(text)
    return text.lstrip()
