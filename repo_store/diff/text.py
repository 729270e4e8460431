"""Normalisation and word tokenisation of legal text, shared by the diff and comment anchoring."""

from __future__ import annotations

import re
import unicodedata

# Combining marks that survive NFC (letters without a precomposed form) must stay inside their
# word, otherwise a diacritic would become a token of its own and a word would diff in pieces.
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"

# A word is a run of letters, digits and underscores (with any combining marks); every other
# visible character (punctuation, bidi controls, symbols such as § and №) is a token of its own.
WORD_RE = re.compile(rf"(?:\w|[{_COMBINING}])+|[^\w\s{_COMBINING}]|[{_COMBINING}]")

# The same tokens, each carrying the whitespace in front of it, so that a run of tokens can be
# rebuilt as written; block text is folded, so that whitespace is at most one space.
SPACED_WORD_RE = re.compile(rf"\s*(?:(?:\w|[{_COMBINING}])+|[^\w\s{_COMBINING}]|[{_COMBINING}])")

# Bidirectional formatting characters can make a text display differently from what it says
# (the "Trojan Source" trick), so the diff reports every one it meets.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
BIDI_RE = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")

# Whitespace that is not a plain single space between words: runs, tabs, line breaks, NBSP.
_IRREGULAR_SPACE_RE = re.compile(r"[^\S ]| {2}")


def normalise_text(text: str) -> str:
    """Return the text in NFC with LF line endings, as documents are stored."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def fold_whitespace(text: str) -> str:
    """Fold every run of whitespace, line breaks included, to one space and strip the ends."""
    if _IRREGULAR_SPACE_RE.search(text) is None:
        return text.strip(" ")
    return " ".join(text.split())


def normalise_fragment(text: str) -> str:
    """Normalise a piece of text (a quote, a block) the way block text is normalised."""
    return fold_whitespace(normalise_text(text))


def words(text: str) -> list[str]:
    """Split text into word and punctuation tokens, whitespace dropped."""
    return WORD_RE.findall(text)


def spaced_words(text: str) -> list[str]:
    """Split text into tokens that keep the whitespace in front of them."""
    return SPACED_WORD_RE.findall(text)


def code_point_name(char: str) -> str:
    """Name a character for a warning, e.g. ``U+202E RIGHT-TO-LEFT OVERRIDE``."""
    return unicodedata.name(char, "UNKNOWN")
