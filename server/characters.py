"""Which characters a name, title or message may hold: no control characters and no
bidirectional formatting, so that a stored value shows on every screen as what it says."""

from __future__ import annotations

import re
import unicodedata

from keys.protocol import BIDI_CONTROLS

# Control characters (category Cc: C0, DEL and C1) can clear a terminal, move its cursor or
# rewrite a line already printed; bidi controls make a text display in another order than it
# reads. A single-line field refuses both; a multi-line one (a commit message, a comment) allows
# LF alone, after CR LF has become LF (docs/formats.md, "Text fields").
_BIDI = "".join(sorted(BIDI_CONTROLS))
_SINGLE_LINE_REFUSED = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_MULTI_LINE_REFUSED = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def _refusal(pattern: re.Pattern[str], value: str, what: str) -> str | None:
    found = pattern.search(value)
    if found is None:
        return None
    return f"must not contain {what} ({_describe(found.group())})"


def single_line_refusal(value: str) -> str | None:
    """Why value cannot be a single-line field (a title, a name, a label), or None if it can."""
    return _refusal(_SINGLE_LINE_REFUSED, value, "control or bidirectional formatting characters")


def multi_line_refusal(value: str) -> str | None:
    """Why value cannot be a multi-line text (LF allowed, nothing else of the kind), or None."""
    return _refusal(
        _MULTI_LINE_REFUSED,
        value,
        "control or bidirectional formatting characters other than line feeds",
    )


def unify_line_breaks(value: str) -> str:
    """CR LF as LF: a message typed on Windows means the same as one typed elsewhere."""
    return value.replace("\r\n", "\n") if "\r" in value else value
