"""Parse a legal text into blocks (headings, articles, numbered paragraphs, items, paragraphs).

Ids are structural where a block is numbered (``art_5``, ``art_5__para_2``,
``art_5a__para_1__item_b``) so that inserting a paragraph elsewhere leaves them alone, and
positional otherwise (``art_5__p2`` is the second unnumbered paragraph of article 5, ``p3`` the
third at top level). The grammar is described in the package docstring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from repo_store.diff.text import fold_whitespace, normalise_text

# Keyword → id prefix.  Articles, sections and § are the units that a comment or a renumbering
# talks about; parts and chapters only group them and are numbered headings.
_PROVISION_PREFIX = {
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
_GROUPING_PREFIXES = frozenset({"ch", "part"})

# A provision number: 5, 5a, 5а, 5-1, 5.1, 5bis, or a Roman numeral for chapters and parts.
_NUMBER = r"(?:\d{1,5}(?:[.\-]\d{1,4})*(?:bis|ter|quater|[a-zа-яё])?|[IVXLCDM]{1,7})"

# "Article 5 of this Law" at the start of a wrapped line is a reference, not a heading: a
# provision heading ends after its number, or goes on with punctuation or a capital letter.
_PROVISION = (
    r"(?P<kw>[Aa]rticle|ARTICLE|Art\.|[Ss]ection|SECTION|Sec\.|[Cc]hapter|CHAPTER|[Pp]art|PART"
    r"|Статья|СТАТЬЯ|Ст\.|Глава|ГЛАВА|Раздел|РАЗДЕЛ|§)"
    rf" ?(?P<num>{_NUMBER})"
    r"(?=$|\n| ?[.:\-–—)]| [A-ZÄÖÜА-ЯЁ«\"“(])"
)
# Numbered paragraphs (1) 1. 1) 1.1. 1.1 and lettered items a) (b) а) (ii), then a space.
_POINT = (
    r"(?:\((?P<pnum1>\d{1,3}[a-z]?)\)"
    r"|(?P<pnum2>\d{1,3}(?:\.\d{1,3})*)[.)]"
    r"|(?P<pnum3>\d{1,3}(?:\.\d{1,3})+)"
    r"|\(?(?P<inum>[a-zа-яё]|[ivx]{2,5})\))(?= )"
)
_BULLET = r"[-*•](?= )"

_HEADING_RE = re.compile(r"#{1,6}(?: |$)")
_PROVISION_RE = re.compile(_PROVISION)
_POINT_RE = re.compile(_POINT)


def _unnamed(pattern: str) -> str:
    """Make the named groups of a pattern non-capturing, for use in ``split``."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


# A line that starts with a marker begins a new block even without a blank line before it.
_MARKER_LINE_RE = re.compile(
    rf"\n(?=#{{1,6}}(?: |$)|{_unnamed(_PROVISION)}|{_unnamed(_POINT)}|{_BULLET})"
)
# Which markers a block may start with, by its first character, so that most blocks are
# classified with one small pattern (or none) instead of trying every form.
_TRY_HEADING, _TRY_PROVISION, _TRY_POINT, _TRY_BULLET = 1, 2, 4, 8
_ROUTES: dict[str, int] = {}
for _first in "AaSsCcPpСГР§":
    _ROUTES[_first] = _TRY_PROVISION
for _first in "(0123456789abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщъыьэюя":
    _ROUTES[_first] = _ROUTES.get(_first, 0) | _TRY_POINT
for _first in "-*•":
    _ROUTES[_first] = _TRY_BULLET
_ROUTES["#"] = _TRY_HEADING
# Lines holding only whitespace separate blocks like empty ones.
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]+(?=\n)")

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


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a document: its structural id, what it is and its normalised text."""

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
        if not self.label:
            return self.text
        at = self.text.find(self.label)
        return self.text[at + len(self.label) :] if at >= 0 else self.text


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


# What a chunk of text (blocks up to a blank line) depends on: the container and paragraph it
# sits in, the running counts of unnumbered blocks and headings.  Two chunks with the same text
# and the same outline parse to the same blocks, so a second version reuses the first one's
# blocks for every chunk it did not change, which makes comparing two versions cost little more
# than parsing one.
_Outline = tuple[str, str, str, int, int, int]
_START: _Outline = ("", "", "", 0, 0, 0)


class _Memo:
    """The chunks of a parsed version: chunk text → outline before and after it, and the
    position and count of its blocks in ``blocks`` (whose ids needed no de-duplication)."""

    __slots__ = ("blocks", "bases", "chunks")

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.bases: list[str] = []
        self.chunks: dict[str, tuple[_Outline, _Outline, int, int]] = {}


def parse_blocks(text: str) -> list[Block]:
    """Parse a document into blocks in document order."""
    return _parse(normalise_text(text), None, None)


def parse_versions(old: str, new: str) -> tuple[list[Block], list[Block]]:
    """Parse two normalised versions, reusing the first one's blocks where the second agrees."""
    memo = _Memo()
    return _parse(old, memo, None), _parse(new, None, memo)


def _chunks(text: str) -> list[str]:
    """Split at blank lines (lines of whitespace count as blank)."""
    if "\n " in text or "\n\t" in text or "\n\xa0" in text:
        text = _BLANK_LINE_RE.sub("\n", text)
    return text.split("\n\n")


def _parse(text: str, record: _Memo | None, reuse: _Memo | None) -> list[Block]:
    memo = record if record is not None else _Memo()
    blocks = memo.blocks
    bases = memo.bases  # each block's id before de-duplication
    chunks = memo.chunks
    seen: dict[str, int] = {}
    outline = _START
    reused = reuse.chunks if reuse is not None else {}
    for chunk in _chunks(text):
        hit = reused.get(chunk)
        if hit is not None and hit[0] == outline and reuse is not None:
            first, count = hit[2], hit[3]
            if count == 1:
                base = reuse.bases[first]
                if base not in seen:
                    seen[base] = 2
                    blocks.append(reuse.blocks[first])
                    bases.append(base)
                    outline = hit[1]
                    continue
            elif seen.keys().isdisjoint(reuse.bases[first : first + count]):
                seen.update(dict.fromkeys(reuse.bases[first : first + count], 2))
                blocks.extend(reuse.blocks[first : first + count])
                bases.extend(reuse.bases[first : first + count])
                outline = hit[1]
                continue
        chunk_outline = outline
        first = len(blocks)
        for piece in _pieces(chunk):
            outline = _classify(piece, outline, seen, blocks, bases)
        count = len(blocks) - first
        if record is None or not count or chunk in chunks:
            continue
        if count == 1:
            if bases[first] == blocks[first].id:
                chunks[chunk] = (chunk_outline, outline, first, 1)
        elif all(bases[k] == blocks[k].id for k in range(first, first + count)):
            chunks[chunk] = (chunk_outline, outline, first, count)
    return blocks


def _pieces(chunk: str) -> list[str]:
    """Split a chunk of lines into the pieces that start with a marker."""
    chunk = chunk.strip()
    if not chunk:
        return []
    if "\n" not in chunk or _MARKER_LINE_RE.search(chunk) is None:
        return [chunk]
    return _MARKER_LINE_RE.split(chunk)


def _read_marker(text: str) -> tuple[int, str | None, str | None, int, int]:
    """Read the marker a block starts with.

    Return what it is (one of the ``_TRY_*`` flags, 0 for plain text), the provision keyword,
    the number, and where the marker starts and ends in the text.
    """
    route = _ROUTES.get(text[0], 0)
    if not route:
        return 0, None, None, 0, 0
    if route == _TRY_HEADING:
        m = _HEADING_RE.match(text)
        if m is None:
            return 0, None, None, 0, 0
        at = m.end()
        provision = _PROVISION_RE.match(text, at)
        if provision is None:
            return _TRY_HEADING, None, None, at, at
        return _TRY_PROVISION, provision.group("kw"), provision.group("num"), at, provision.end()
    if route & _TRY_PROVISION:
        provision = _PROVISION_RE.match(text)
        if provision is not None:
            return _TRY_PROVISION, provision.group("kw"), provision.group("num"), 0, provision.end()
    if route & _TRY_POINT:
        point = _POINT_RE.match(text)
        if point is not None:
            pnum1, pnum2, pnum3, inum = point.groups()
            pnum = pnum1 or pnum2 or pnum3
            if pnum is not None:
                return _TRY_POINT, None, pnum, 0, point.end()
            return _TRY_BULLET, None, inum, 0, point.end()
    if route & _TRY_BULLET and text[1:2] == " ":
        return _TRY_BULLET, None, None, 0, 1
    return 0, None, None, 0, 0


def _classify(
    piece: str, outline: _Outline, seen: dict[str, int], blocks: list[Block], bases: list[str]
) -> _Outline:
    """Append the block(s) of one piece of text; return the outline after them."""
    container, container_label, paragraph, unnumbered, bullets, headings = outline
    text = piece.replace("\n", " ") if "\n" in piece else piece
    if not text.isprintable() or "  " in text:
        text = fold_whitespace(text)
    what, kw, num, start, end = _read_marker(text)
    if what & (_TRY_HEADING | _TRY_PROVISION) and "\n" in piece:
        # A heading is one line; the lines under it are blocks of their own.
        head, rest = piece.split("\n", 1)
        outline = _classify(head, outline, seen, blocks, bases)
        for sub in _pieces(rest):
            outline = _classify(sub, outline, seen, blocks, bases)
        return outline
    if what == _TRY_PROVISION and kw is not None and num is not None:
        prefix = _PROVISION_PREFIX[kw.lower()]
        base = f"{prefix}_{number_slug(num)}"
        label = text[start:end]
        heading = text[end:].lstrip(" .:-–—)")
        kind = "heading" if prefix in _GROUPING_PREFIXES else "article"
        block_id = _unique(base, seen)
        blocks.append(Block(block_id, kind, num, label, heading, text, "", label))
        outline = (block_id, label, "", 0, 0, headings)
    elif what == _TRY_HEADING:
        headings += 1
        base = f"h{headings}"
        block_id = _unique(base, seen)
        blocks.append(Block(block_id, "heading", None, "", text[end:], text, "", ""))
        outline = (block_id, "", "", 0, 0, headings)
    elif what == _TRY_POINT and num is not None:
        local = f"para_{number_slug(num)}"
        base = f"{container}__{local}" if container else local
        block_id = _unique(base, seen)
        blocks.append(
            Block(block_id, "paragraph", num, text[:end], "", text, container, container_label)
        )
        outline = (container, container_label, block_id, unnumbered, 0, headings)
    elif what == _TRY_BULLET:
        parent = paragraph or container
        if num is not None:
            local = f"item_{number_slug(num)}"
        else:
            bullets += 1
            local = f"li{bullets}"
        base = f"{parent}__{local}" if parent else local
        block_id = _unique(base, seen)
        blocks.append(Block(block_id, "item", num, text[:end], "", text, parent, container_label))
        outline = (container, container_label, paragraph, unnumbered, bullets, headings)
    else:
        unnumbered += 1
        base = f"{container}__p{unnumbered}" if container else f"p{unnumbered}"
        block_id = _unique(base, seen)
        blocks.append(Block(block_id, "text", None, "", "", text, container, container_label))
        outline = (container, container_label, paragraph, unnumbered, bullets, headings)
    bases.append(base)
    return outline


def _unique(base: str, seen: dict[str, int]) -> str:
    """Return the id, suffixed ``~2``, ``~3``… when a number repeats in the document.

    ``seen`` maps each id handed out to the next suffix to try for it, so that a number
    repeated thousands of times costs no more than once each.
    """
    n = seen.get(base)
    if n is None:
        seen[base] = 2
        return base
    while f"{base}~{n}" in seen:
        n += 1
    seen[base] = n + 1
    block_id = f"{base}~{n}"
    seen[block_id] = 2
    return block_id
