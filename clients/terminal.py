"""Strings from a server or a bundle made safe to print: no control or bidi character acts."""

from __future__ import annotations

import unicodedata

from keys.protocol import BIDI_CONTROLS


def _acts(ch: str, keep: str) -> bool:
    # Control characters (C0, DEL, C1) can restyle the terminal, move the cursor or redraw a
    # line; bidi controls make a text display in another order than it reads.
    return ch not in keep and (unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS)


def _escape(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def _printable(text: str, keep: str) -> str:
    if not any(_acts(ch, keep) for ch in text):
        return text
    return "".join(_escape(ch) if _acts(ch, keep) else ch for ch in text)


def acts_on_terminal(text: str) -> bool:
    """Whether text holds any control or bidi character (line breaks and tabs included)."""
    return any(_acts(ch, "") for ch in text)


def printable(text: str) -> str:
    """Text for a terminal: every control and bidi character shown as an escape, except line
    breaks and tabs, which keep a multi-line text (a document, a diff) readable."""
    return _printable(text, "\n\t")


def one_line(text: str) -> str:
    """A single-line field (a title, a message, a name) for a terminal: line breaks and tabs
    are escaped too, so a value cannot draw a line of its own under or over the real output."""
    return _printable(text, "")


def json_text(text: str) -> str:
    """JSON from json.dumps(ensure_ascii=False) with every control and bidi character written
    as a \\u escape: the same data, and nothing in it that acts on a terminal."""
    # json.dumps escapes C0 controls itself, but leaves DEL, C1 and bidi characters raw; in
    # JSON text they can only stand inside strings, where \\uXXXX means the same character.
    if not any(_acts(ch, "\n") for ch in text):
        return text
    return "".join(f"\\u{ord(ch):04x}" if _acts(ch, "\n") else ch for ch in text)
