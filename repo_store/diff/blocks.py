"""Parse a legal text into blocks (headings, articles, numbered paragraphs, items, paragraphs).

Ids are structural where a block is numbered (``art_5``, ``art_5__para_2``,
``art_5a__para_1__item_b``) so that inserting a paragraph elsewhere leaves them alone, and
positional otherwise (``art_5__p2`` is the second unnumbered paragraph of article 5, ``p3`` the
third at top level). The grammar is described in the package docstring.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import partial
from operator import attrgetter
from typing import NamedTuple

from repo_store.diff.grammar import (
    BOUNDARY_RE,
    GRAMMAR,
    GROUPING_PREFIXES,
    HEADING_RE,
    POINT_RE,
    PROVISION_PREFIX,
    PROVISION_RE,
    ROUTES,
    TITLE_PUNCTUATION,
    TRY_BULLET,
    TRY_HEADING,
    TRY_POINT,
    TRY_PROVISION,
    number_slug,
    unique_id,
)
from repo_store.diff.grammar import Block as Block  # the rest of the diff imports it from here
from repo_store.diff.text import fold_whitespace, normalise_text

# Blocks are made with tuple.__new__ itself, skipping the Python-level __new__ of the named
# tuple, which would double the cost of building one.
_block: Callable[[tuple[str, str, str | None, str, str, str, str, str]], Block] = partial(
    tuple.__new__, Block
)

_block_id = attrgetter("id")

# What a piece of text (the lines of one block) depends on: the container and paragraph it
# sits in, the running counts of unnumbered blocks and headings.  Two runs of pieces with the
# same text and the same outline before them parse to the same blocks, so a second version
# reuses the first one's blocks for every run it did not change, which makes comparing two
# versions cost little more than parsing one.
_Outline = tuple[str, str, str, int, int, int]
_START: _Outline = ("", "", "", 0, 0, 0)


class _Parsed:
    """A version parsed piece by piece, kept so that a second version can reuse its work.

    ``first[i]`` is the index in ``blocks`` of piece ``i``'s first block and ``outline[i]``
    the outline before it (both one longer than ``pieces``); ``renamed`` lists, in order, the
    blocks whose id had to be de-duplicated.
    """

    __slots__ = ("blocks", "pieces", "first", "outline", "renamed", "_where", "_misses")

    # A second version mostly goes on where the last reused run ended: a piece is looked for in
    # the next NEARBY pieces, and in an index of every piece only once MISSES looks have failed
    # (the index costs a hash of every piece of a long law).
    NEARBY = 64
    MISSES = 256

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.blocks: list[Block] = []
        self.first: list[int] = []
        self.outline: list[_Outline] = []
        self.renamed: list[int] = []
        self._where: dict[str, int] | None = None
        self._misses = 0

    def find(self, piece: str, near: int) -> int:
        """Return a place of ``piece`` among these pieces, looking near ``near`` first; -1 if
        it is not found (a piece far away may be missed until the index is built)."""
        if self._where is None:
            try:
                return self.pieces.index(piece, near, near + self.NEARBY)
            except ValueError:
                self._misses += 1
                if self._misses < self.MISSES:
                    return -1
            # Piece text → its first position (the reversed zip lets earlier positions win).
            positions = range(len(self.pieces) - 1, -1, -1)
            self._where = dict(zip(reversed(self.pieces), positions, strict=True))
        return self._where.get(piece, -1)


class ParsedPair(NamedTuple):
    """Two versions parsed together, and the runs of blocks the second took from the first.

    Each run is ``(new_start, old_start, length)``: ``new[new_start + k]`` is the very object
    ``old[old_start + k]``, same text, same id and same place in the outline.
    """

    old: list[Block]
    new: list[Block]
    shared: list[tuple[int, int, int]]


def parse_blocks(text: str) -> list[Block]:
    """Parse a document into blocks in document order."""
    blocks: list[Block] = []
    _parse(_pieces(normalise_text(text)), _START, {}, blocks, [], [], [])
    return blocks


def count_pieces(text: str) -> int:
    """Count the paragraphs and marked lines of a text, without parsing them.

    Each one makes one block, or two when a provision line carries text after its title, so
    the count bounds the number of blocks from below and its double from above.
    """
    return len(_pieces(normalise_text(text)))


def parse_versions(old: str, new: str) -> tuple[list[Block], list[Block]]:
    """Parse two normalised versions, reusing the first one's blocks where the second agrees."""
    pair = parse_pair(old, new)
    return pair.old, pair.new


def parse_pair(old: str, new: str) -> ParsedPair:
    """Parse two normalised versions; runs of unchanged pieces are parsed only once."""
    parsed = _record(_pieces(old))
    # The second version's pieces are compared where they lie in its text: only those it
    # changed are ever copied out, as strings to parse.
    blocks, shared = _parse_reusing(new, _spans(new), parsed)
    return ParsedPair(parsed.blocks, blocks, shared)


def _pieces(text: str) -> list[str]:
    """Split a normalised text into pieces: the stripped lines of one block each, none empty."""
    return _split(text)


def _split_pieces(text: str) -> list[str]:
    return list(filter(None, map(str.strip, BOUNDARY_RE.split(text))))


def _piece_spans(text: str) -> bytes:
    """Where each of ``_pieces(text)`` lies in the text: start and end, packed in pairs."""
    spans = array("q")
    start = 0
    for separator in [*BOUNDARY_RE.finditer(text), None]:
        end = separator.start() if separator is not None else len(text)
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            at = start + len(piece) - len(piece.lstrip())
            spans.extend((at, at + len(stripped)))
        if separator is not None:
            start = separator.end()
    return spans.tobytes()


def _record(pieces: list[str]) -> _Parsed:
    """Parse the first version, keeping what ``_parse_reusing`` needs to skip its pieces."""
    parsed = _Parsed(pieces)
    outline = _parse(
        pieces, _START, {}, parsed.blocks, parsed.renamed, parsed.first, parsed.outline
    )
    parsed.first.append(len(parsed.blocks))
    parsed.outline.append(outline)
    return parsed


def _parse_reusing(
    text: str, packed: bytes, old: _Parsed
) -> tuple[list[Block], list[tuple[int, int, int]]]:
    """Parse the second version, taking whole runs of unchanged pieces from the first.

    ``packed`` holds the spans of the text's pieces (``_piece_spans``): piece ``j`` is
    ``text[spans[2 * j] : spans[2 * j + 1]]``.
    """
    spans = memoryview(packed).cast("q")
    blocks: list[Block] = []
    renamed: list[int] = []
    shared: list[tuple[int, int, int]] = []
    seen: dict[str, int] = {}
    outline = _START
    old_pieces = old.pieces
    count = len(spans) // 2
    j = 0
    expected = 0  # where the old version goes on after the last reused run
    # After a run that could not be reused, the next tries come ever further apart, so that
    # failing tries cost O(n log n) at worst (a try compares up to a whole run).
    failures, next_try = 0, 0
    parsed_from = 0  # pieces parsed_from to j - 1 are still to be parsed

    def parse_up_to(stop: int) -> _Outline:
        pieces = [text[spans[2 * k] : spans[2 * k + 1]] for k in range(parsed_from, stop)]
        return _parse(pieces, outline, seen, blocks, renamed, [], [])

    while j < count:
        start, end = spans[2 * j], spans[2 * j + 1]
        if expected < len(old_pieces) and _is_piece(text, start, end, old_pieces[expected]):
            i = expected
        else:
            i = old.find(text[start:end], expected)
        if i >= 0 and j >= next_try:
            if parsed_from < j:
                outline = parse_up_to(j)
                parsed_from = j
            if old.outline[i] == outline:
                last = _reusable_end(old, i, i + _common(old_pieces, i, text, packed, j), seen)
                if last > i:
                    first, stop = old.first[i], old.first[last]
                    run = old.blocks[first:stop]
                    shared.append((len(blocks), first, stop - first))
                    blocks.extend(run)
                    seen.update(dict.fromkeys(map(_block_id, run), 2))
                    outline = old.outline[last]
                    j += last - i
                    parsed_from = j
                    expected = last
                    failures = 0
                    continue
                failures += 1
                next_try = j + (1 << min(failures, 20))
        j += 1
    parse_up_to(count)
    return blocks, [run for run in shared if run[2]]


def _is_piece(text: str, start: int, end: int, piece: str) -> bool:
    """Whether ``text[start:end]`` is ``piece``, without copying it out."""
    return end - start == len(piece) and text.startswith(piece, start)


def _reusable_end(old: _Parsed, i: int, end: int, seen: dict[str, int]) -> int:
    """Shorten a run of old pieces ``i..end`` to those whose blocks keep their ids here.

    A reused block keeps its id, so it must not have been renamed in the old version nor have
    an id this version has given already.  Returns the new end (``i`` when nothing is left).
    """
    start, stop = old.first[i], old.first[end]
    first_renamed = bisect_left(old.renamed, start)
    if first_renamed < len(old.renamed):
        stop = min(stop, old.renamed[first_renamed])
    run = old.blocks[start:stop]
    if not seen.keys().isdisjoint(map(_block_id, run)):
        stop = start + next(n for n, block in enumerate(run) if block.id in seen)
    # The last piece boundary at or before the first block that cannot be reused.
    return bisect_right(old.first, stop, i, end + 1) - 1


def _common_run(pieces: list[str], i: int, text: str, packed: bytes, j: int) -> int:
    """Return how many of ``pieces[i:]`` equal the text's pieces from piece ``j`` on, the
    text's pieces given by their spans, packed (``_piece_spans``)."""
    spans = memoryview(packed).cast("q")
    length = 0
    while (
        i + length < len(pieces)
        and 2 * (j + length) < len(spans)
        and _is_piece(
            text, spans[2 * (j + length)], spans[2 * (j + length) + 1], pieces[i + length]
        )
    ):
        length += 1
    return length


def _parse_pieces(
    pieces: list[str],
    outline: _Outline,
    seen: dict[str, int],
    blocks: list[Block],
    renamed: list[int],
    first: list[int],
    outlines: list[_Outline],
) -> _Outline:
    """Append the blocks of pieces to ``blocks``; return the outline after the last one.

    ``first`` and ``outlines`` get, for each piece, the index of its first block and the
    outline before it; ``renamed`` the index of every block whose id had to be de-duplicated.
    Pieces are stripped and not empty (``_pieces``).  This loop runs once per block of a
    document: the outline lives in local variables and the marker is read inline.
    """
    container, container_label, paragraph, unnumbered, bullets, headings = outline
    add_block, add_first, add_outline = blocks.append, first.append, outlines.append
    provision_match, point_match = PROVISION_RE.match, POINT_RE.match
    for piece in pieces:
        add_first(len(blocks))
        add_outline(outline)
        text = piece.replace("\n", " ") if "\n" in piece else piece
        if "  " in text or not text.isprintable():
            text = fold_whitespace(text)
        route = ROUTES.get(text[0], 0)
        match = None
        if route & TRY_PROVISION:
            match = provision_match(text)
        elif route == TRY_HEADING:
            match = HEADING_RE.match(text)
            if match is not None:
                match = provision_match(text, match.end()) or match
        if match is not None and "\n" in piece:
            # A heading is one line; the lines under it are a block of their own.
            head, rest = piece.split("\n", 1)
            parts = [part for part in (head.strip(), rest.strip()) if part]
            outline = _parse_pieces(parts, outline, seen, blocks, renamed, [], [])
            container, container_label, paragraph, unnumbered, bullets, headings = outline
            continue
        if match is not None and match.re is PROVISION_RE:
            keyword, number = match.group(1, 2)
            prefix = PROVISION_PREFIX[keyword.lower()]
            base = f"{prefix}_{number_slug(number)}"
            block_id = base if base not in seen else unique_id(base, seen)
            seen.setdefault(block_id, 2)
            label = text[match.start() : match.end()]
            heading = text[match.end() :].lstrip(TITLE_PUNCTUATION)
            kind = "heading" if prefix in GROUPING_PREFIXES else "article"
            add_block(_block((block_id, kind, number, label, heading, text, "", label)))
            container, container_label, paragraph, unnumbered, bullets = block_id, label, "", 0, 0
        elif match is not None:
            headings += 1
            base = f"h{headings}"
            block_id = base if base not in seen else unique_id(base, seen)
            seen.setdefault(block_id, 2)
            add_block(_block((block_id, "heading", None, "", text[match.end() :], text, "", "")))
            container, container_label, paragraph, unnumbered, bullets = block_id, "", "", 0, 0
        elif route & TRY_POINT and (point := point_match(text)) is not None:
            marker = text[: point.end()]
            number = point.group(1) or point.group(2) or point.group(3)
            if number is not None:
                local = f"para_{number_slug(number)}"
                base = f"{container}__{local}" if container else local
                block_id = base if base not in seen else unique_id(base, seen)
                seen.setdefault(block_id, 2)
                add_block(
                    _block(
                        (
                            block_id,
                            "paragraph",
                            number,
                            marker,
                            "",
                            text,
                            container,
                            container_label,
                        )
                    )
                )
                paragraph, bullets = block_id, 0
            else:
                number = point.group(4)
                parent = paragraph or container
                local = f"item_{number_slug(number)}"
                base = f"{parent}__{local}" if parent else local
                block_id = base if base not in seen else unique_id(base, seen)
                seen.setdefault(block_id, 2)
                add_block(
                    _block((block_id, "item", number, marker, "", text, parent, container_label))
                )
        elif route & TRY_BULLET and text[1:2] == " ":
            parent = paragraph or container
            bullets += 1
            base = f"{parent}__li{bullets}" if parent else f"li{bullets}"
            block_id = base if base not in seen else unique_id(base, seen)
            seen.setdefault(block_id, 2)
            add_block(_block((block_id, "item", None, text[:1], "", text, parent, container_label)))
        else:
            unnumbered += 1
            base = f"{container}__p{unnumbered}" if container else f"p{unnumbered}"
            block_id = base if base not in seen else unique_id(base, seen)
            seen.setdefault(block_id, 2)
            add_block(_block((block_id, "text", None, "", "", text, container, container_label)))
        if block_id is not base:
            renamed.append(len(blocks) - 1)
        outline = (container, container_label, paragraph, unnumbered, bullets, headings)
    return outline


_ParsePieces = Callable[
    [list[str], _Outline, dict[str, int], list[Block], list[int], list[int], list[_Outline]],
    _Outline,
]
# _speedups.c is _split_pieces, _piece_spans, _common_run and _parse_pieces compiled, built at
# install: on a long law it parses several times faster (docs/decisions.md).  The tests check
# that both give the same pieces and blocks.  It is handed the grammar once, as one object.
try:
    from repo_store.diff import _speedups
except ImportError:  # a source tree nobody has built: the Python loops do the same, slower
    _split: Callable[[str], list[str]] = _split_pieces
    _spans: Callable[[str], bytes] = _piece_spans
    _common: Callable[[list[str], int, str, bytes, int], int] = _common_run
    _parse: _ParsePieces = _parse_pieces
else:
    _speedups.configure(GRAMMAR)
    _split = _speedups.split_pieces
    _spans = _speedups.piece_spans
    _common = _speedups.common_run
    _parse = _speedups.parse_pieces
