"""Normalisation and word tokenisation of legal text, shared by the diff and comment anchoring."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from keys.protocol import BIDI_CONTROLS

# Combining marks that survive NFC (letters without a precomposed form) must stay inside their
# word, otherwise a diacritic would become a token of its own and a word would diff in pieces.
_COMBINING_RANGES = (
    (0x300, 0x36F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)
_COMBINING = "".join(f"{chr(low)}-{chr(high)}" for low, high in _COMBINING_RANGES)

# A word is a run of letters, digits and underscores (with any combining marks); every other
# visible character (punctuation, bidi controls, symbols such as § and №) is a token of its own.
WORD_RE = re.compile(rf"(?:\w|[{_COMBINING}])+|[^\w\s{_COMBINING}]|[{_COMBINING}]")

# The same tokens, each carrying the whitespace in front of it, so that a run of tokens can be
# rebuilt as written; block text is folded, so that whitespace is at most one space.
SPACED_WORD_RE = re.compile(rf"\s*(?:(?:\w|[{_COMBINING}])+|[^\w\s{_COMBINING}]|[{_COMBINING}])")

# The diff reports every bidi control it meets (keys/protocol.py says why).
_BIDI_CHARS = "".join(sorted(BIDI_CONTROLS))
BIDI_RE = re.compile(f"[{_BIDI_CHARS}]")

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


def count_words(text: str) -> int:
    """Return how many word and punctuation tokens the text has."""
    return _count_words(text)


def word_set(text: str) -> frozenset[str]:
    """Return the set of the text's tokens in lower case."""
    return _word_set(text)


def has_bidi_control(text: str) -> bool:
    """Return whether the text has any bidi control character."""
    return _contains_any(text, _BIDI_CHARS)


def _contains_any_in_python(text: str, chars: str) -> bool:
    # A dozen substring tests scan a long text much faster than one character-class search.
    return any(char in text for char in chars)


def _count_words_in_python(text: str) -> int:
    return len(WORD_RE.findall(text))


def _word_set_in_python(text: str) -> frozenset[str]:
    return frozenset(WORD_RE.findall(text.lower()))


def spaced_words(text: str) -> list[str]:
    """Split text into tokens that keep the whitespace in front of them."""
    return SPACED_WORD_RE.findall(text)


def code_point_name(char: str) -> str:
    """Name a character for a warning, e.g. ``U+202E RIGHT-TO-LEFT OVERRIDE``."""
    return unicodedata.name(char, "UNKNOWN")


# The same compiled (_speedups.c, docs/decisions.md), when the install built it: the diff
# counts and collects the words of every changed block and looks for bidi controls in every
# version.
_count_words: Callable[[str], int]
_word_set: Callable[[str], frozenset[str]]
_contains_any: Callable[[str, str], bool]
try:
    from repo_store.diff import _speedups
except ImportError:  # a source tree nobody has built
    _count_words, _word_set = _count_words_in_python, _word_set_in_python
    _contains_any = _contains_any_in_python
else:
    _speedups.configure_words(_COMBINING_RANGES)
    _count_words, _word_set = _speedups.count_words, _speedups.word_set
    _contains_any = _speedups.contains_any
