"""Render the API's JSON diff as a word redline for a terminal, in colour or in plain markers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import click

from clients.terminal import one_line, printable

# Plain markers (git's word-diff style) for when colour is off: still unambiguous on paper.
DELETE_OPEN, DELETE_CLOSE = "[-", "-]"
INSERT_OPEN, INSERT_CLOSE = "{+", "+}"
GUTTER = {"equal": " ", "insert": "+", "delete": "-", "replace": "~", "move": ">"}


def _deleted(text: str, color: bool) -> str:
    if color:
        return click.style(text, fg="red", strikethrough=True)
    return f"{DELETE_OPEN}{text}{DELETE_CLOSE}"


def _inserted(text: str, color: bool) -> str:
    if color:
        return click.style(text, fg="green", underline=True)
    return f"{INSERT_OPEN}{text}{INSERT_CLOSE}"


def _note(text: str, color: bool) -> str:
    return click.style(text, fg="cyan") if color else text


def _run(token: Mapping[str, Any], color: bool) -> str:
    """One run of tokens; its leading whitespace stays outside the markers."""
    text = printable(str(token.get("text", "")))
    op = token.get("op")
    if op == "equal":
        return text
    body = text.lstrip()
    space = text[: len(text) - len(body)]
    return space + (_deleted(body, color) if op == "delete" else _inserted(body, color))


def _block_text(block: Mapping[str, Any], color: bool) -> str:
    tokens = block.get("tokens") or []
    op = block.get("op")
    if tokens:
        return "".join(_run(t, color) for t in tokens)
    text = printable(str(block.get("text", "")))
    if op == "insert":
        return _inserted(text, color)
    if op == "delete":
        return _deleted(text, color)
    return text


def _summary(stats: Mapping[str, Any]) -> str:
    counts = [
        (stats.get("replace", 0), "changed"),
        (stats.get("insert", 0), "added"),
        (stats.get("delete", 0), "removed"),
        (stats.get("move", 0), "moved"),
        (stats.get("renumbered", 0), "renumbered"),
    ]
    parts = [f"{n} {word}" for n, word in counts if n]
    blocks = ", ".join(parts) if parts else "no provision changed"
    words = (
        f"{stats.get('words_inserted', 0)} word(s) inserted, "
        f"{stats.get('words_deleted', 0)} deleted"
    )
    return f"{blocks}; {words}"


def render_redline(diff: Mapping[str, Any], *, color: bool, context: bool = True) -> Iterator[str]:
    """Yield the lines of a redline: a header, each block with a gutter mark, then warnings.

    Gutter: ` ` unchanged, `~` changed, `+` added, `-` removed, `>` moved. With context off,
    unchanged blocks are left out.
    """
    old, new = diff.get("from"), diff.get("to")
    header = f"{diff.get('party', '')}/{diff.get('slug', '')}: {str(old or '(none)')[:12]}"
    header += f" -> {str(new or '')[:12]}"
    header = one_line(header)
    yield click.style(header, bold=True) if color else header
    yield one_line(_summary(diff.get("stats") or {}))
    for block in diff.get("blocks") or []:
        op = str(block.get("op", "equal"))
        if op == "equal" and not context and not block.get("renumbered"):
            continue
        notes = []
        # Where the block stood, in the document's words; a server that does not say so yet
        # gives only the block's id.
        place = block.get("old_place") or block.get("old_id")
        if op == "move":
            notes.append(f"moved from {place}")
        elif block.get("renumbered"):
            notes.append(f"renumbered from {place}")
        prefix = one_line(f"[{'; '.join(notes)}] ") if notes else ""
        mark = GUTTER.get(op, "?")
        yield ""
        yield f"{mark} {_note(prefix, color) if prefix else ''}{_block_text(block, color)}"
    if diff.get("warnings"):
        yield ""
    for warning in diff.get("warnings") or []:
        if warning.get("type") == "more_warnings":
            yield one_line(f"warning: {warning.get('count')} more warning(s) left out")
            continue
        yield one_line(
            f"warning: {warning.get('name')} ({warning.get('code_point')}) in the "
            f"{warning.get('side')} version, block {warning.get('block')}: text may display "
            "differently from how it is stored"
        )
