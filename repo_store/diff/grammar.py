"""The grammar of block markers and ids: patterns, keyword tables, and the Block they make.

The grammar is described in the package docstring; ``blocks.py`` parses a text with it, and
``GRAMMAR`` hands the same patterns and tables to the compiled parser (``_speedups.c``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import NamedTuple

from repo_store.diff.text import fold_whitespace

# Keyword → id prefix.  Articles, sections and § are the units that a comment or a renumbering
# talks about; parts and chapters only group them and are numbered headings.
PROVISION_PREFIX = {
    "article": "art",
    "art.": "art",
    "статья": "art",
    "ст.": "art",
    "§": "art",
    "section": "sec",
    "sec.": "sec",
    "chapter": "ch",
    "глава": "ch",
    "part": "part",
    "раздел": "part",
}
GROUPING_PREFIXES = frozenset({"ch", "part"})
# The words that open a provision, as written.  No word is the start of another, so at most one
# fits any text, whatever order the pattern tries them in.
KEYWORDS = (
    *("Article", "article", "ARTICLE", "Art.", "Section", "section", "SECTION", "Sec."),
    *("Chapter", "chapter", "CHAPTER", "Part", "part", "PART"),
    *("Статья", "СТАТЬЯ", "Ст.", "Глава", "ГЛАВА", "Раздел", "РАЗДЕЛ", "§"),
)
# Lower-case letters that number items (a) б)) and may end a provision number (5a, 5а).
LETTERS = string.ascii_lowercase + "".join(map(chr, range(ord("а"), ord("я") + 1))) + "ё"
# A provision heading ends after its number, or goes on with one of these marks, or with a space
# and one of the initials ("Статья 5. Title", "§ 5 – Title", "Article 5 Title").
NUMBER_ENDS = ".:-–—)"
TITLE_INITIALS = (
    string.ascii_uppercase + "ÄÖÜ" + "".join(map(chr, range(ord("А"), ord("Я") + 1))) + 'Ё«"“('
)
# What may stand between a provision's number and its title.
TITLE_PUNCTUATION = " " + NUMBER_ENDS


def _one_of(chars: str) -> str:
    """A character class matching exactly the given characters."""
    return "[" + "".join(map(re.escape, chars)) + "]"


# A provision number: 5, 5a, 5а, 5-1, 5.1, 5bis, or a Roman numeral for chapters and parts.
_NUMBER = (
    rf"(?:\d{{1,5}}(?:[.\-]\d{{1,4}})*(?:bis|ter|quater|{_one_of(LETTERS)})?|[IVXLCDM]{{1,7}})"
)

# "Article 5 of this Law" at the start of a wrapped line is a reference, not a heading: a
# provision heading ends after its number, or goes on with punctuation or a capital letter.
_PROVISION = (
    rf"(?P<kw>{'|'.join(map(re.escape, KEYWORDS))})"
    rf" ?(?P<num>{_NUMBER})"
    rf"(?=$|\n| ?{_one_of(NUMBER_ENDS)}| {_one_of(TITLE_INITIALS)})"
)
# Numbered paragraphs (1) 1. 1) 1.1. 1.1 and lettered items a) (b) а) (ii), then a space.
_POINT = (
    r"(?:\((?P<pnum1>\d{1,3}[a-z]?)\)"
    r"|(?P<pnum2>\d{1,3}(?:\.\d{1,3})*)[.)]"
    r"|(?P<pnum3>\d{1,3}(?:\.\d{1,3})+)"
    rf"|\(?(?P<inum>{_one_of(LETTERS)}|[ivx]{{2,5}})\))(?= )"
)
_BULLET = r"[-*•](?= )"

HEADING_RE = re.compile(r"#{1,6}(?: |$)")
PROVISION_RE = re.compile(_PROVISION)
POINT_RE = re.compile(_POINT)


def _unnamed(pattern: str) -> str:
    """Make the named groups of a pattern non-capturing, for use in ``split``."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


# A block ends at a blank line (lines of whitespace count as blank) and before every line that
# starts with a marker.  One split of the whole text finds them all at the speed of the regular
# expression engine, which leaves little to do in Python for each block.
_LINE_MARKER = rf"#{{1,6}}(?: |$)|{_unnamed(_PROVISION)}|{_unnamed(_POINT)}|{_BULLET}"
LINE_MARKER_RE = re.compile(_LINE_MARKER)
BOUNDARY_RE = re.compile(rf"\n(?:[^\S\n]*\n)+|\n(?=(?:{_LINE_MARKER}))")
# Which markers a block may start with, by its first character, so that most blocks are
# classified with one small pattern (or none) instead of trying every form.
TRY_HEADING, TRY_PROVISION, TRY_POINT, TRY_BULLET = 1, 2, 4, 8
ROUTES: dict[str, int] = {}
for _first in "AaSsCcPpСГР§":
    ROUTES[_first] = TRY_PROVISION
for _first in "(0123456789abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщъыьэюя":
    ROUTES[_first] = ROUTES.get(_first, 0) | TRY_POINT
for _first in "-*•":
    ROUTES[_first] = TRY_BULLET
ROUTES["#"] = TRY_HEADING

# Cyrillic letters used as item numbers, spelled in ASCII so that ids stay safe in URLs and HTML.
_TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "yo",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "j",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "c",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "hs",
        "ы": "y",
        "ь": "ss",
        "э": "eh",
        "ю": "yu",
        "я": "ya",
        ".": "_",
    }
)
_ID_UNSAFE_RE = re.compile(r"[^a-z0-9_\-]")


class Block(NamedTuple):
    """One block of a document: its structural id, what it is and its normalised text.

    A named tuple rather than a frozen dataclass: a version of a long law has thousands of
    blocks, and a tuple is built several times faster.
    """

    id: str
    kind: str  # "heading" (numbered parts and chapters too) | "article" | "paragraph" | "item"
    #            | "text"
    number: str | None  # the number as written ("5a", "2", "б"), None when unnumbered
    label: str  # the marker as written ("Статья 5", "(2)", "б)", "-"), "" for plain text
    heading: str  # the title of an article, chapter or heading, "" for other blocks
    text: str  # normalised text of the block, marker included
    parent: str  # id of the enclosing provision or paragraph, "" at top level
    provision: str  # label of the enclosing article or chapter as written, e.g. "Article 3"

    @property
    def body(self) -> str:
        """Return the text after the marker, which stays the same when only the number changes."""
        # Read once each: comparing two versions asks every block that changed for its body.
        label, text = self.label, self.text
        if not label:
            return text
        if text.startswith(label):
            return text[len(label) :]
        at = text.find(label)
        return text[at + len(label) :] if at >= 0 else text


_SLUGS: dict[str, str] = {}


def number_slug(number: str) -> str:
    """Spell a provision number in ASCII for an id: ``5.1`` → ``5_1``, Cyrillic ``б`` → ``b``."""
    if number.isascii() and number.isdigit():
        return number
    slug = _SLUGS.get(number)
    if slug is None:
        slug = number.lower().translate(_TRANSLIT)
        slug = _ID_UNSAFE_RE.sub(lambda m: f"u{ord(m.group()):04x}", slug)
        if len(_SLUGS) < 10_000:  # numbers repeat ("1", "2", "а"); an odd one need not stay
            _SLUGS[number] = slug
    return slug


def unique_id(base: str, seen: dict[str, int]) -> str:
    """Return a new id for a number already taken: ``base~2``, ``base~3``…

    ``seen`` maps each id handed out to the next suffix to try for it, so that a number
    repeated thousands of times costs no more than once each.
    """
    n = seen[base]
    while f"{base}~{n}" in seen:
        n += 1
    seen[base] = n + 1
    block_id = f"{base}~{n}"
    seen[block_id] = 2
    return block_id


class Grammar(NamedTuple):
    """What the compiled parser is handed once: this module's patterns, tables and helpers."""

    provision: re.Pattern[str]
    heading: re.Pattern[str]
    point: re.Pattern[str]
    line_marker: re.Pattern[str]
    keywords: tuple[str, ...]
    routes: dict[str, int]
    route_bits: tuple[int, int, int, int]  # TRY_HEADING, TRY_PROVISION, TRY_POINT, TRY_BULLET
    prefixes: dict[str, str]
    grouping: frozenset[str]
    letters: str
    number_ends: str
    title_initials: str
    title_punctuation: str
    number_slug: Callable[[str], str]
    slugs: dict[str, str]
    unique_id: Callable[[str, dict[str, int]], str]
    fold_whitespace: Callable[[str], str]
    block: type[Block]


GRAMMAR = Grammar(
    provision=PROVISION_RE,
    heading=HEADING_RE,
    point=POINT_RE,
    line_marker=LINE_MARKER_RE,
    keywords=KEYWORDS,
    routes=ROUTES,
    route_bits=(TRY_HEADING, TRY_PROVISION, TRY_POINT, TRY_BULLET),
    prefixes=PROVISION_PREFIX,
    grouping=GROUPING_PREFIXES,
    letters=LETTERS,
    number_ends=NUMBER_ENDS,
    title_initials=TITLE_INITIALS,
    title_punctuation=TITLE_PUNCTUATION,
    number_slug=number_slug,
    slugs=_SLUGS,
    unique_id=unique_id,
    fold_whitespace=fold_whitespace,
    block=Block,
)
