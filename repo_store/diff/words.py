"""Word-level diff inside one block: common ends, unique-token anchors, then a bounded Myers.

The work is bounded so that no input is quadratic: tokens that occur once on each side anchor
the alignment (patience diff) and split it into smaller gaps; a gap is diffed exactly with Myers
only while ``(n + m) · d`` stays under ``MYERS_BUDGET``, and beyond that it is reported as
replaced as a whole, which is also what a reader would make of such a gap.  A whole comparison
shares one ``WordBudget`` as well, so that thousands of blocks, each just under the bound of a
gap, cannot add up to minutes: once it is spent, the remaining gaps are reported as replaced.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from repo_store.diff.text import count_words, spaced_words, words

# Upper bound of token comparisons spent by Myers on one gap between anchors.
MYERS_BUDGET = 60_000
# Gaps shorter than this (both sides together) are diffed exactly without looking for anchors.
EXACT_GAP = 160
# Anchoring recursion depth; each level works on disjoint ranges, so a level costs O(n).
MAX_DEPTH = 12
# Token comparisons Myers may spend on all the blocks of one comparison together, a few tenths
# of a second: a wholly rewritten 10 MB law spends about 60,000 (tests/support/lawgen.py), a hostile
# text of one-letter words millions.
DOCUMENT_MYERS_BUDGET = 2_000_000


# A gap between anchors: ``a[alo:ahi]`` against ``b[blo:bhi]``.
_Gap = tuple[int, int, int, int]


class WordBudget:
    """What is left of the Myers budget of one comparison; shared by all its blocks."""

    __slots__ = ("remaining",)

    def __init__(self, remaining: int = DOCUMENT_MYERS_BUDGET) -> None:
        self.remaining = remaining


@dataclass(frozen=True, slots=True)
class TokenRun:
    """A run of consecutive tokens with the same operation.

    ``text`` keeps the whitespace in front of each token, so joining the ``equal`` and
    ``insert`` runs of a block gives back its new text exactly, and joining the ``equal`` and
    ``delete`` runs gives back its old text up to whitespace.
    """

    op: str  # "equal" | "insert" | "delete"
    text: str


def match_tokens(
    a: Sequence[str], b: Sequence[str], budget: WordBudget | None = None
) -> list[tuple[int, int]]:
    """Return index pairs ``(i, j)`` with ``a[i] == b[j]`` forming a common subsequence."""
    pairs: list[tuple[int, int]] = []
    _align(a, b, 0, len(a), 0, len(b), 0, pairs, budget or WordBudget())
    return pairs


def _align(
    a: Sequence[str],
    b: Sequence[str],
    alo: int,
    ahi: int,
    blo: int,
    bhi: int,
    depth: int,
    out: list[tuple[int, int]],
    budget: WordBudget,
) -> None:
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        out.append((alo, blo))
        alo += 1
        blo += 1
    tail = 0
    while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
        ahi -= 1
        bhi -= 1
        tail += 1
    if alo < ahi and blo < bhi:
        size = (ahi - alo) + (bhi - blo)
        anchors = (
            _unique_anchors(a, b, alo, ahi, blo, bhi)
            if size > EXACT_GAP and depth < MAX_DEPTH
            else []
        )
        if anchors:
            i0, j0 = alo, blo
            for i, j in anchors:
                _align(a, b, i0, i, j0, j, depth + 1, out, budget)
                out.append((i, j))
                i0, j0 = i + 1, j + 1
            _align(a, b, i0, ahi, j0, bhi, depth + 1, out, budget)
        else:
            max_d = min(size, max(8, MYERS_BUDGET // size), budget.remaining // size)
            if max_d > 0:
                out.extend(_myers(a, b, (alo, ahi, blo, bhi), max_d, budget))
    out.extend((ahi + k, bhi + k) for k in range(tail))


def _unique_anchors(
    a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Pair tokens that occur exactly once on each side, keeping the longest ordered chain."""
    seen_a: dict[str, int] = {}
    for i in range(alo, ahi):
        token = a[i]
        seen_a[token] = -1 if token in seen_a else i
    seen_b: dict[str, int] = {}
    for j in range(blo, bhi):
        token = b[j]
        if token in seen_a:
            seen_b[token] = -1 if token in seen_b else j
    candidates = sorted(
        (i, seen_b[t]) for t, i in seen_a.items() if i >= 0 and seen_b.get(t, -1) >= 0
    )
    return longest_increasing_chain(candidates)


def longest_increasing_chain(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return the longest subsequence of pairs (sorted by first item) increasing in the second."""
    tails: list[int] = []  # tails[k]: smallest second item ending a chain of length k + 1
    tail_at: list[int] = []
    back: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[k] = j
            tail_at[k] = index
        back.append(tail_at[k - 1] if k else -1)
    chain: list[tuple[int, int]] = []
    at = tail_at[-1] if tail_at else -1
    while at >= 0:
        chain.append(pairs[at])
        at = back[at]
    chain.reverse()
    return chain


def _myers(
    a: Sequence[str], b: Sequence[str], gap: _Gap, max_d: int, budget: WordBudget
) -> list[tuple[int, int]]:
    """Match a gap exactly with Myers' O((n+m)·d) algorithm, or not at all beyond ``max_d``.

    Each round of ``d`` is charged ``n + m`` to the budget, the bound of what it can cost.
    """
    alo, ahi, blo, bhi = gap
    n = ahi - alo
    m = bhi - blo
    offset = max_d + 1
    v = [0] * (2 * max_d + 3)
    trace: list[list[int]] = []
    for d in range(max_d + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]
            else:
                x = v[offset + k - 1] + 1
            y = x - k
            while x < n and y < m and a[alo + x] == b[blo + y]:
                x += 1
                y += 1
            v[offset + k] = x
            if x >= n and y >= m:
                trace.append(v[offset - d : offset + d + 1])
                budget.remaining -= (n + m) * (d + 1)
                return _myers_path(trace, n, m, alo, blo)
        trace.append(v[offset - d : offset + d + 1])
    budget.remaining -= (n + m) * (max_d + 1)
    return []


def _myers_path(
    trace: list[list[int]], n: int, m: int, alo: int, blo: int
) -> list[tuple[int, int]]:
    """Walk the Myers trace back from the end and collect the diagonal (matching) moves."""
    pairs: list[tuple[int, int]] = []
    x, y = n, m
    for d in range(len(trace) - 1, 0, -1):
        prev = trace[d - 1]  # covers diagonals -(d-1) .. d-1
        k = x - y
        if k == -d or (k != d and prev[k - 1 + d - 1] < prev[k + 1 + d - 1]):
            prev_k = k + 1
        else:
            prev_k = k - 1
        prev_x = prev[prev_k + d - 1]
        prev_y = prev_x - prev_k
        start_x = prev_x if prev_k == k + 1 else prev_x + 1  # after the single edit step
        while x > start_x:
            x -= 1
            y -= 1
            pairs.append((alo + x, blo + y))
        x, y = prev_x, prev_y
    while x > 0 and y > 0:
        x -= 1
        y -= 1
        pairs.append((alo + x, blo + y))
    pairs.reverse()
    return pairs


def diff_words(
    old_text: str, new_text: str, budget: WordBudget | None = None
) -> tuple[list[TokenRun], int, int]:
    """Diff two normalised block texts word by word, spending from ``budget`` if given.

    Return the runs and the numbers of deleted and inserted tokens.
    """
    old_words = words(old_text)
    new_words = words(new_text)
    pairs = match_tokens(old_words, new_words, budget)
    return runs_from_matches(spaced_words(old_text), spaced_words(new_text), pairs)


def replace_all(old_text: str, new_text: str) -> tuple[list[TokenRun], int, int]:
    """Report a block as wholly replaced, without looking for common words."""
    runs = []
    if old_text:
        runs.append(TokenRun("delete", old_text))
    if new_text:
        runs.append(TokenRun("insert", new_text))
    return runs, count_words(old_text), count_words(new_text)


def runs_from_matches(
    old_spaced: Sequence[str], new_spaced: Sequence[str], pairs: Sequence[tuple[int, int]]
) -> tuple[list[TokenRun], int, int]:
    """Turn matched token pairs into runs: deletions first, then insertions, then the match."""
    runs: list[TokenRun] = []
    deleted = inserted = 0
    i = j = 0
    equal_from = -1
    for pi, pj in [*pairs, (len(old_spaced), len(new_spaced))]:
        if pi > i or pj > j:
            if equal_from >= 0:
                runs.append(TokenRun("equal", "".join(new_spaced[equal_from:j])))
                equal_from = -1
            if pi > i:
                text = "".join(old_spaced[i:pi])
                if (
                    pi < len(old_spaced)
                    and pj < len(new_spaced)
                    and old_spaced[pi][:1] == " "
                    and new_spaced[pj][:1] != " "
                ):
                    # The old text had a space before the next common token and the new
                    # one has none: keep it with the deletion, or the old words would merge.
                    text += " "
                runs.append(TokenRun("delete", text))
                deleted += pi - i
            if pj > j:
                runs.append(TokenRun("insert", "".join(new_spaced[j:pj])))
                inserted += pj - j
        if equal_from < 0:
            equal_from = pj
        i, j = pi + 1, pj + 1
    if equal_from >= 0 and equal_from < len(new_spaced):
        runs.append(TokenRun("equal", "".join(new_spaced[equal_from:])))
    return runs, deleted, inserted
