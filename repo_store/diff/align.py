"""Align the blocks of two versions: by structural id, by wording, then by similar wording.

Passes, each over the blocks the earlier ones left unpaired, each linear or bounded:

1. same id and same text;
2. same wording after the marker (a renumbered or moved provision), paired in order within
   each group of equal wordings when both versions have the same number of them;
3. same id and similar wording (``REPLACE_SIMILARITY``);
4. similar wording anywhere (``MOVE_SIMILARITY``): candidates are the blocks sharing the
   ``RARE_WORDS`` rarest words of a block, skipping words found in more than
   ``MAX_POSTINGS`` blocks and trying at most ``MAX_CANDIDATES`` blocks;
5. same id whatever the wording (the provision at that number was rewritten).

Pairs that keep the document order (the longest increasing chain of old positions, taken in new
order) are ``equal`` or ``replace``; the other pairs are ``move``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain, pairwise

from repo_store.diff.blocks import Block
from repo_store.diff.text import word_set
from repo_store.diff.words import longest_increasing_chain

# Similarity is the Dice coefficient of the two blocks' sets of words: 2·|A∩B| / (|A| + |B|).
REPLACE_SIMILARITY = 0.5
MOVE_SIMILARITY = 0.6
RARE_WORDS = 6
MAX_POSTINGS = 64
MAX_CANDIDATES = 32
_HEADING_KINDS = frozenset({"article", "heading"})


def word_set_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Return the Dice coefficient of two word sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


class _WordSets:
    """Word sets of blocks, computed once and only for the blocks that need them."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = blocks
        self.cache: dict[int, frozenset[str]] = {}

    def __getitem__(self, index: int) -> frozenset[str]:
        found = self.cache.get(index)
        if found is None:
            found = word_set(self.blocks[index].body)
            self.cache[index] = found
        return found


class Alignment:
    """The pairing of old and new blocks, and which pairs keep their order."""

    def __init__(self, old: Sequence[Block], new: Sequence[Block]) -> None:
        self.old = old
        self.new = new
        self.old_of_new: list[int] = [-1] * len(new)
        self.new_of_old: list[int] = [-1] * len(old)
        self.similar: set[int] = set()  # new indices paired on similar, not equal, wording
        # in_order[j] is 1 when new block j is paired and its pair keeps the document order.
        self.in_order = bytearray(len(new))
        # Blocks still unpaired, as of the last call; pairs are never undone, so each pass
        # filters the short list the previous one left instead of scanning every block.
        self._old_left: list[int] | None = None
        self._new_left: list[int] | None = None

    def pair(self, i: int, j: int) -> None:
        self.new_of_old[i] = j
        self.old_of_new[j] = i

    def pair_runs(self, runs: Iterable[tuple[int, int, int]]) -> None:
        """Pair runs of ``(new_start, old_start, length)`` blocks one to one."""
        for j, i, length in runs:
            self.old_of_new[j : j + length] = range(i, i + length)
            self.new_of_old[i : i + length] = range(j, j + length)

    def unpaired_old(self) -> list[int]:
        self._old_left = _unpaired(self.new_of_old, self._old_left)
        return self._old_left

    def unpaired_new(self) -> list[int]:
        self._new_left = _unpaired(self.old_of_new, self._new_left)
        return self._new_left


def _unpaired(pairs: list[int], left: list[int] | None) -> list[int]:
    """Indices whose pair is -1: all of them, or those still unpaired in ``left``."""
    if left is None:
        return indices_of(pairs, -1)
    return [k for k in left if pairs[k] < 0]


def indices_of(values: list[int], wanted: int) -> list[int]:
    """Return where ``wanted`` occurs in ``values`` (searched by list.index, in C)."""
    found: list[int] = []
    at = -1
    while True:
        try:
            at = values.index(wanted, at + 1)
        except ValueError:
            return found
        found.append(at)


def align_blocks(
    old: Sequence[Block], new: Sequence[Block], shared: Iterable[tuple[int, int, int]] = ()
) -> Alignment:
    """Pair the blocks of two versions of a document.

    ``shared`` lists runs of ``(new_start, old_start, length)`` blocks known to be the same
    (``parse_pair`` finds them), which are paired before any other pass.
    """
    alignment = Alignment(old, new)
    alignment.pair_runs(shared)
    # Passes by id look up old blocks that are still unpaired: ids are unique within a version,
    # so the index needs only those, which are few when most blocks were shared.
    old_index = {old[i].id: i for i in alignment.unpaired_old()}
    _pair_same_id_and_text(alignment, old_index)
    _pair_same_wording(alignment)
    old_sets, new_sets = _WordSets(old), _WordSets(new)
    _pair_same_id(alignment, old_index, old_sets, new_sets, REPLACE_SIMILARITY)
    _pair_similar_wording(alignment, old_sets, new_sets)
    _pair_same_id(alignment, old_index, old_sets, new_sets, None)
    _mark_order(alignment)
    return alignment


def _pair_same_id_and_text(alignment: Alignment, old_index: dict[str, int]) -> None:
    old, new = alignment.old, alignment.new
    for j in alignment.unpaired_new():
        block = new[j]
        i = old_index.get(block.id)
        if i is not None and alignment.new_of_old[i] < 0 and old[i].text == block.text:
            alignment.pair(i, j)


def _pair_same_wording(alignment: Alignment) -> None:
    groups: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    for i in alignment.unpaired_old():
        block = alignment.old[i]
        key = (block.kind, block.body)
        group = groups.get(key)
        if group is None:
            groups[key] = group = ([], [])
        group[0].append(i)
    if not groups:
        return
    for j in alignment.unpaired_new():
        block = alignment.new[j]
        group = groups.get((block.kind, block.body))
        if group is not None:
            group[1].append(j)
    for olds, news in groups.values():
        if len(olds) == len(news):
            for i, j in zip(olds, news, strict=True):
                alignment.pair(i, j)


def _pair_same_id(
    alignment: Alignment,
    old_index: dict[str, int],
    old_sets: _WordSets,
    new_sets: _WordSets,
    threshold: float | None,
) -> None:
    for j in alignment.unpaired_new():
        block = alignment.new[j]
        i = old_index.get(block.id)
        if i is None or alignment.new_of_old[i] >= 0 or alignment.old[i].kind != block.kind:
            continue
        if threshold is None:
            alignment.pair(i, j)
        elif word_set_similarity(old_sets[i], new_sets[j]) >= threshold:
            alignment.pair(i, j)
            alignment.similar.add(j)


def _pair_similar_wording(alignment: Alignment, old_sets: _WordSets, new_sets: _WordSets) -> None:
    postings: dict[str, list[int]] = defaultdict(list)
    for i in alignment.unpaired_old():
        for word in old_sets[i]:
            postings[word].append(i)
    if not postings:
        return
    for j in alignment.unpaired_new():
        rare = sorted(
            (len(postings[w]), w)
            for w in new_sets[j]
            if w in postings and len(postings[w]) <= MAX_POSTINGS
        )
        candidates: dict[int, None] = {}
        for _, word in rare[:RARE_WORDS]:
            for i in postings[word]:
                if alignment.new_of_old[i] < 0:
                    candidates[i] = None
                    if len(candidates) >= MAX_CANDIDATES:
                        break
            if len(candidates) >= MAX_CANDIDATES:
                break
        best, best_score = -1, MOVE_SIMILARITY
        heading = alignment.new[j].kind in _HEADING_KINDS
        for i in candidates:
            if (alignment.old[i].kind in _HEADING_KINDS) != heading:
                continue  # a provision's heading does not turn into a paragraph, nor back
            score = word_set_similarity(old_sets[i], new_sets[j])
            if score >= best_score and (best < 0 or score > best_score):
                best, best_score = i, score
        if best >= 0:
            alignment.pair(best, j)
            alignment.similar.add(j)


def _mark_order(alignment: Alignment) -> None:
    old_of_new = alignment.old_of_new
    unpaired = alignment.unpaired_new()
    # The paired old indices in new order, copied slice by slice between the few unpaired new
    # blocks: this looks at every block, so the work is left to C.
    bounds = [-1, *unpaired, len(old_of_new)]
    paired_old = list(chain.from_iterable(old_of_new[a + 1 : b] for a, b in pairwise(bounds)))
    if paired_old == sorted(paired_old):  # every pair keeps its place (pairs are one to one)
        alignment.in_order[:] = b"\x01" * len(old_of_new)
        for j in unpaired:
            alignment.in_order[j] = 0
        return
    pairs = [(j, i) for j, i in enumerate(old_of_new) if i >= 0]
    for j, _ in longest_increasing_chain(pairs):
        alignment.in_order[j] = 1
