"""Benchmark re-anchoring 1,000 comments onto a new version against one diff of the same pair.

Run: .venv/bin/python bench/reanchor.py [--size-mb 1] [--comments 1000] [--repeat N]

The comments quote 3 to 12 consecutive words of random blocks of a generated law; the new
version has 40 scattered word edits and one reflowed paragraph.  Both timings are medians
taken in this run, interleaved; target: re-anchoring ≤ 3 × one `diff_texts`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from repo_store.anchor import CONTEXT, Anchor, locate_quote, reanchor
from repo_store.diff import diff_texts, parse_blocks
from repo_store.diff.text import WORD_RE

# The repository root, for the helpers the benchmarks share with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.lawgen import law_versions

TARGET = 3.0


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def comments_on(text: str, count: int, seed: int) -> list[Anchor]:
    """Make anchors the way the service stores them, on random spans of random blocks."""
    rng = random.Random(seed)
    blocks = [b for b in parse_blocks(text) if len(WORD_RE.findall(b.text)) >= 3]
    anchors = []
    for _ in range(count):
        block = rng.choice(blocks)
        spans = [m.span() for m in WORD_RE.finditer(block.text)]
        length = rng.randint(3, min(12, len(spans)))
        first = rng.randrange(len(spans) - length + 1)
        start, end = spans[first][0], spans[first + length - 1][1]
        anchors.append(
            Anchor(
                block.id,
                start,
                end,
                block.text[start:end],
                block.text[max(0, start - CONTEXT) : start],
                block.text[end : end + CONTEXT],
            )
        )
    return anchors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    old, new = law_versions(int(args.size_mb * 1_000_000))
    anchors = comments_on(old, args.comments, seed=7)
    # The generated anchors are what locate_quote would store for the same quotes.
    for sample in anchors[:3]:
        found = locate_quote(
            old, sample.quote, prefix=sample.prefix, suffix=sample.suffix, block=sample.block
        )
        assert found == sample, (found, sample)

    results = reanchor(anchors, old, new)
    statuses = Counter(r.status for r in results)
    ours: list[float] = []
    baseline: list[float] = []
    for _ in range(args.repeat):
        baseline.append(timed(lambda: diff_texts(old, new)))
        ours.append(timed(lambda: reanchor(anchors, old, new)))
    ours_median = statistics.median(ours)
    base_median = statistics.median(baseline)
    ratio = ours_median / base_median
    print(
        f"law: {len(old.encode()):,} bytes; comments: {len(anchors):,}; "
        f"statuses: {dict(sorted(statuses.items()))}"
    )
    print(f"\n{'case':<34} {'median':>10} {'ratio':>7} {'target':>7}")
    print(f"{'diff_texts (baseline)':<34} {base_median * 1000:>8.1f}ms")
    print(
        f"{f'reanchor {len(anchors):,} comments':<34} {ours_median * 1000:>8.1f}ms "
        f"{ratio:>7.2f} {TARGET:>7.1f}  {'ok' if ratio <= TARGET else 'MISSED'}"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
