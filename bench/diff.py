"""Benchmark the structural diff against `git diff --word-diff` on generated laws.

Run: .venv/bin/python bench/diff.py [--size-mb 1] [--repeat N] [--big-mb 10]

Cases, all timed in this run, medians of N repeats, interleaved so that drift hits all alike:
- ours on a law of SIZE MB and its second version with 40 scattered word edits and one
  reflowed paragraph, against `git diff --no-index --word-diff=porcelain` on the same two files
  (process start included); target ours/git ≤ 2.0;
- ours on a BIG MB law (same edits) against ours on SIZE MB; target ≤ 12 for 10× the size;
- ours on a wholly rewritten SIZE MB law against the 40-edit case; target ≤ 10.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from repo_store.diff import diff_texts

# The repository root, for the helpers the benchmarks share with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.lawgen import law_versions, rewritten_law


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def git_word_diff(old: Path, new: Path) -> None:
    # Exit status 1 only says that the files differ.
    subprocess.run(
        ["git", "diff", "--no-index", "--word-diff=porcelain", "--", str(old), str(new)],
        capture_output=True,
        check=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--big-mb", type=float, default=10.0, help="0 skips the big case")
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    size = int(args.size_mb * 1_000_000)

    old, new = law_versions(size)
    rewritten_old, rewritten_new = rewritten_law(size)
    big_old, big_new = law_versions(int(args.big_mb * 1_000_000)) if args.big_mb else ("", "")
    print(
        f"law: {len(old.encode()):,} bytes, {old.count('Статья '):,} articles; "
        f"big law: {len(big_old.encode()):,} bytes"
    )

    samples: dict[str, list[float]] = {"ours": [], "git": [], "rewritten": [], "big": []}
    with tempfile.TemporaryDirectory() as tmp:
        old_path, new_path = Path(tmp, "old.md"), Path(tmp, "new.md")
        old_path.write_text(old, encoding="utf-8")
        new_path.write_text(new, encoding="utf-8")
        git_word_diff(old_path, new_path)  # warm the page cache for both files
        diff_texts(old, new).to_json()
        for _ in range(args.repeat):
            samples["git"].append(timed(lambda: git_word_diff(old_path, new_path)))
            samples["ours"].append(timed(lambda: diff_texts(old, new).to_json()))
            samples["rewritten"].append(
                timed(lambda: diff_texts(rewritten_old, rewritten_new).to_json())
            )
            if big_old:
                samples["big"].append(timed(lambda: diff_texts(big_old, big_new).to_json()))

    median = {name: statistics.median(times) for name, times in samples.items() if times}
    rows = [
        (f"ours, {args.size_mb:g} MB, 40 edits", "git diff --word-diff", "ours", "git", 2.0),
        (f"ours, {args.size_mb:g} MB rewritten", "ours, 40 edits", "rewritten", "ours", 10.0),
    ]
    if "big" in median:
        rows.append(
            (
                f"ours, {args.big_mb:g} MB, 40 edits",
                f"ours, {args.size_mb:g} MB",
                "big",
                "ours",
                1.2 * args.big_mb / args.size_mb,
            )
        )
    print(
        f"\n{'case':<28} {'median':>10}   {'baseline':<24} {'median':>10} {'ratio':>7}"
        f" {'target':>7}"
    )
    failed = False
    for label, base_label, name, base, target in rows:
        ratio = median[name] / median[base]
        failed |= ratio > target
        mark = "ok" if ratio <= target else "MISSED"
        print(
            f"{label:<28} {median[name] * 1000:>8.1f}ms   {base_label:<24}"
            f" {median[base] * 1000:>8.1f}ms {ratio:>7.2f} {target:>7.1f}  {mark}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
