"""Anchor comments to quoted text of a version, and carry them onto later versions.

A comment stores the block id, the offsets of the quote in the block's normalised text, and up
to ``CONTEXT`` characters before and after it.  Carried onto a later version, an anchor is

- ``current``: the exact quote is in the same provision: the block with the same id, or the
  block the diff pairs with it in place (renumbered, say, but not moved);
- ``moved``: the exact quote is in another block, including a provision the diff saw move;
- ``changed``: no exact quote, but a passage similar enough: its word similarity with the
  quote is at least ``FUZZY_THRESHOLD``;
- ``orphaned``: none of these; the original quote is kept so that nothing is lost.

Word similarity is the Dice coefficient over word tokens (lower-cased, punctuation included):
``2 · matched / (len(quote) + len(passage))``, where ``matched`` counts the tokens of the
quote that a (bounded) word diff pairs with the passage.  Among exact or similar places, the
one whose surroundings agree best with the stored prefix and suffix wins, then the one in the
aligned block, then the first in the document.  Fuzzy search looks in the aligned block, then
in at most ``MAX_FUZZY_BLOCKS`` blocks sharing the quote's rarest words, so it stays
near-linear however many blocks a version has.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from repo_store.diff.align import align_blocks
from repo_store.diff.blocks import Block, parse_blocks, parse_versions
from repo_store.diff.collector import paused_collector
from repo_store.diff.text import WORD_RE, normalise_fragment, normalise_text
from repo_store.diff.words import match_tokens

CONTEXT = 32
_SPACES_RE = re.compile(r"\s+")
FUZZY_THRESHOLD = 0.6
MAX_EXACT_MATCHES = 200
MAX_FUZZY_BLOCKS = 16
MAX_POSTINGS = 64
RARE_WORDS = 4
MAX_WINDOWS = 32
# Quotes longer than this (in words) are compared on their first and last words only.
MAX_FUZZY_WORDS = 2000


@dataclass(frozen=True)
class Anchor:
    """Where a comment points: a quote in a block's normalised text, with its surroundings."""

    block: str
    start: int
    end: int
    quote: str
    prefix: str
    suffix: str


@dataclass(frozen=True)
class Reanchored:
    """Where a comment points in a later version, and how sure that is."""

    status: str  # "current" | "moved" | "changed" | "orphaned"
    block: str | None
    start: int | None
    end: int | None
    quote: str  # the text now at that place; for an orphaned comment, the original quote


class _Version:
    """The blocks of one version, with a joined text for fast exact search."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = blocks
        self.index = {block.id: i for i, block in enumerate(blocks)}
        starts: list[int] = []
        at = 0
        for block in blocks:
            starts.append(at)
            at += len(block.text) + 1
        self.starts = starts
        # Block texts never hold a line break, so a quote found here lies within one block.
        self.joined = "\n".join(block.text for block in blocks)
        self._postings: dict[str, list[int]] | None = None
        self._words: dict[int, _BlockWords] = {}

    def words_of(self, i: int) -> _BlockWords:
        """Return the words of block ``i``, computed once for all the anchors that need them."""
        found = self._words.get(i)
        if found is None:
            found = self._words[i] = _BlockWords(self.blocks[i].text)
        return found

    def find_all(self, quote: str) -> list[tuple[int, int]]:
        """Return (block index, offset) of each exact occurrence, up to a cap."""
        found: list[tuple[int, int]] = []
        at = self.joined.find(quote)
        while at >= 0 and len(found) < MAX_EXACT_MATCHES:
            i = bisect_right(self.starts, at) - 1
            found.append((i, at - self.starts[i]))
            at = self.joined.find(quote, at + 1)
        return found

    def blocks_sharing_rare_words(self, quote_words: Sequence[str]) -> list[int]:
        """Return blocks that hold the quote's rarest words, most shared first."""
        if self._postings is None:
            postings: dict[str, list[int]] = defaultdict(list)
            for i, block in enumerate(self.blocks):
                for word in {w.lower() for w in WORD_RE.findall(block.text)}:
                    postings[word].append(i)
            self._postings = postings
        postings = self._postings
        rare = sorted(
            (len(postings[w]), w)
            for w in set(quote_words)
            if w in postings and len(postings[w]) <= MAX_POSTINGS
        )
        hits: dict[int, int] = defaultdict(int)
        for _, word in rare[:RARE_WORDS]:
            for i in postings[word]:
                hits[i] += 1
        return sorted(hits, key=lambda i: (-hits[i], i))[:MAX_FUZZY_BLOCKS]


def _context_score(
    text: str, start: int, end: int, prefix: str | None, suffix: str | None
) -> float:
    """Return how well the text around a match agrees with a stored prefix and suffix (0–1)."""
    score = 0.0
    parts = 0
    if prefix:
        parts += 1
        before = text[max(0, start - len(prefix)) : start]
        n = 0
        while n < len(before) and before[-1 - n] == prefix[-1 - n]:
            n += 1
        score += n / len(prefix)
    if suffix:
        parts += 1
        after = text[end : end + len(suffix)]
        n = 0
        while n < len(after) and after[n] == suffix[n]:
            n += 1
        score += n / len(suffix)
    return score / parts if parts else 0.0


def _normalise_context(text: str) -> str:
    """Normalise a prefix or suffix like block text, but keep a space at either end."""
    return _SPACES_RE.sub(" ", normalise_text(text))


def _make_anchor(block: Block, start: int, end: int) -> Anchor:
    text = block.text
    return Anchor(
        block.id,
        start,
        end,
        text[start:end],
        text[max(0, start - CONTEXT) : start],
        text[end : end + CONTEXT],
    )


def locate_quote(
    text: str,
    quote: str,
    *,
    prefix: str | None = None,
    suffix: str | None = None,
    block: str | None = None,
) -> Anchor | None:
    """Find the exact quote in a version and return its anchor, or None if it is not there.

    The quote is normalised like block text and must lie within one block.  Several matches
    are told apart by the given block, then by agreement with the prefix and suffix, then by
    document order.
    """
    wanted = normalise_fragment(quote)
    if not wanted:
        return None
    version = _Version(parse_blocks(text))
    prefix = _normalise_context(prefix) if prefix else prefix
    suffix = _normalise_context(suffix) if suffix else suffix
    best: tuple[float, float, int] | None = None
    chosen: tuple[int, int] | None = None
    for rank, (i, at) in enumerate(version.find_all(wanted)):
        candidate = version.blocks[i]
        key = (
            1.0 if candidate.id == block else 0.0,
            _context_score(candidate.text, at, at + len(wanted), prefix, suffix),
            -rank,
        )
        if best is None or key > best:
            best, chosen = key, (i, at)
    if chosen is None:
        return None
    i, at = chosen
    return _make_anchor(version.blocks[i], at, at + len(wanted))


def reanchor(anchors: Sequence[Anchor], old_text: str, new_text: str) -> list[Reanchored]:
    """Carry anchors made on the old version onto the new one (one parse and alignment)."""
    with paused_collector():
        return _reanchor_all(anchors, old_text, new_text)


def _reanchor_all(anchors: Sequence[Anchor], old_text: str, new_text: str) -> list[Reanchored]:
    old_blocks, new_blocks = parse_versions(normalise_text(old_text), normalise_text(new_text))
    alignment = align_blocks(old_blocks, new_blocks)
    old_index = {block.id: i for i, block in enumerate(old_blocks)}
    version = _Version(new_blocks)
    results: list[Reanchored] = []
    for anchor in anchors:
        i = old_index.get(anchor.block, -1)
        aligned = alignment.new_of_old[i] if i >= 0 else -1
        # The same provision: same id, or renumbered in place. A block the diff reports as
        # moved elsewhere is another place, so a quote found there is "moved".
        in_place = aligned >= 0 and (
            new_blocks[aligned].id == anchor.block or bool(alignment.in_order[aligned])
        )
        results.append(_reanchor_one(anchor, aligned, version, in_place=in_place))
    return results


def _reanchor_one(
    anchor: Anchor, aligned: int, version: _Version, *, in_place: bool = True
) -> Reanchored:
    quote = normalise_fragment(anchor.quote)
    if not quote:
        return Reanchored("orphaned", None, None, None, anchor.quote)
    blocks = version.blocks
    if aligned >= 0:
        text = blocks[aligned].text
        best_at, best_key = -1, (-1.0, 0)
        at = text.find(quote)
        tried = 0
        while at >= 0 and tried < MAX_EXACT_MATCHES:
            key = (
                _context_score(text, at, at + len(quote), anchor.prefix, anchor.suffix),
                -abs(at - anchor.start),
            )
            if key > best_key:
                best_at, best_key = at, key
            at = text.find(quote, at + 1)
            tried += 1
        if best_at >= 0:
            return Reanchored(
                "current" if in_place else "moved",
                blocks[aligned].id,
                best_at,
                best_at + len(quote),
                quote,
            )
    found = version.find_all(quote)
    if found:
        i, at = max(
            found,
            key=lambda f: (
                _context_score(
                    blocks[f[0]].text, f[1], f[1] + len(quote), anchor.prefix, anchor.suffix
                ),
                -f[0],
            ),
        )
        return Reanchored("moved", blocks[i].id, at, at + len(quote), quote)
    return _fuzzy(anchor, quote, aligned, version)


def _fuzzy(anchor: Anchor, quote: str, aligned: int, version: _Version) -> Reanchored:
    """Find the passage most similar to a quote that is no longer there word for word."""
    quote_words = [w.lower() for w in WORD_RE.findall(quote)]
    if len(quote_words) > MAX_FUZZY_WORDS:
        half = MAX_FUZZY_WORDS // 2
        quote_words = quote_words[:half] + quote_words[-half:]
    candidates = [aligned] if aligned >= 0 else []
    best: tuple[float, float, int, int] | None = None
    place: tuple[int, int, int] | None = None
    searched_wider = False
    while True:
        for i in candidates:
            found = _best_passage(quote_words, version.words_of(i))
            if found is None:
                continue
            similarity, start, end = found
            if similarity < FUZZY_THRESHOLD:
                continue
            text = version.blocks[i].text
            key = (
                round(similarity, 2),
                _context_score(text, start, end, anchor.prefix, anchor.suffix),
                1 if i == aligned else 0,
                -i,
            )
            if best is None or key > best:
                best, place = key, (i, start, end)
        if place is not None or searched_wider:
            break
        searched_wider = True
        candidates = [i for i in version.blocks_sharing_rare_words(quote_words) if i != aligned]
    if place is None:
        return Reanchored("orphaned", None, None, None, anchor.quote)
    i, start, end = place
    block = version.blocks[i]
    return Reanchored("changed", block.id, start, end, block.text[start:end])


class _BlockWords:
    """The words of one block, lower-cased, with their spans and where each word occurs."""

    def __init__(self, text: str) -> None:
        self.spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text)]
        lowered = text.lower()
        self.words = [lowered[s:e] for s, e in self.spans]
        self.positions: dict[str, list[int]] = defaultdict(list)
        for at, word in enumerate(self.words):
            self.positions[word].append(at)


def _best_passage(quote_words: Sequence[str], block: _BlockWords) -> tuple[float, int, int] | None:
    """Return the similarity and character span of the passage of a block closest to a quote.

    In a long block only windows around occurrences of the quote's rarest words are compared,
    so the cost depends on the quote, not on the length of the block.
    """
    q = len(quote_words)
    n = len(block.words)
    if n <= 4 * q:
        windows = [(0, n)]
    else:
        present = sorted(
            (len(block.positions[w]), k, w)
            for k, w in enumerate(quote_words)
            if w in block.positions
        )
        starts: set[int] = set()
        for _, k, word in present[:RARE_WORDS]:
            for at in block.positions[word][:MAX_WINDOWS]:
                starts.add(max(0, at - k - q // 2))
        windows = []
        for start in sorted(starts)[:MAX_WINDOWS]:
            if windows and start < windows[-1][0] + q // 2:
                continue  # overlaps the previous window enough to find the same passage
            windows.append((start, min(n, start + 2 * q)))
    best: tuple[float, int, int] | None = None
    for start, end in windows:
        found = _score_window(quote_words, block.words, start, end)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    if best is None:
        return None
    score, first_word, last_word = best
    return score, block.spans[first_word][0], block.spans[last_word][1]


def _score_window(
    quote_words: Sequence[str], words: Sequence[str], start: int, end: int
) -> tuple[float, int, int] | None:
    pairs = match_tokens(quote_words, words[start:end])
    if not pairs:
        return None
    q = len(quote_words)
    # Matched words close to each other form a passage; a gap wider than a quarter of the quote
    # starts another one.  Each passage is scored as a whole, which keeps this linear.
    gap = max(3, q // 4)
    best: tuple[float, int, int] | None = None
    first = 0
    for k in range(1, len(pairs) + 1):
        if k < len(pairs) and pairs[k][1] - pairs[k - 1][1] <= gap:
            continue
        length = pairs[k - 1][1] - pairs[first][1] + 1
        score = 2 * (k - first) / (q + length)
        if best is None or score > best[0]:
            best = (score, start + pairs[first][1], start + pairs[k - 1][1])
        first = k
    return best
