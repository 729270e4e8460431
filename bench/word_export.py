"""Benchmark the redline .docx export against pandoc writing the same text to .docx.

Run: .venv/bin/python bench/word_export.py [--size-mb 1] [--repeat N]

Cases, all timed in this run, medians of N repeats, interleaved so that drift hits all alike:
- ours: ``redline_to_docx`` of a law of SIZE MB and its second version with 40 scattered word
  edits (tests/support/lawgen.py, as bench/diff.py), the comparison made beforehand, against
  `pandoc -f markdown -t docx` writing the newer version to a .docx (process start included);
  target ours/pandoc ≤ 2.0;
- ours with the comparison included (``diff_texts`` then ``redline_to_docx``), against the same
  pandoc run, for information (same target);
- ``text_to_docx`` of the newer version, against the same pandoc run, for information.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from repo_store.diff import diff_texts
from repo_store.word.redline import redline_to_docx
from repo_store.word.writer import text_to_docx

# The repository root, for the helpers the benchmarks share with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.lawgen import law_versions

WHEN = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def pandoc_docx(source: Path, target: Path) -> None:
    subprocess.run(
        ["pandoc", "-f", "markdown", "-t", "docx", "-o", str(target), str(source)],
        check=True,
        capture_output=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    old, new = law_versions(int(args.size_mb * 1_000_000))
    diff = diff_texts(old, new)

    def ours() -> bytes:
        return redline_to_docx(diff, author="BLR", date=WHEN, old_text=old).data

    def ours_with_diff() -> bytes:
        return redline_to_docx(diff_texts(old, new), author="BLR", date=WHEN, old_text=old).data

    data = ours()
    print(
        f"law: {len(new.encode()):,} bytes, {new.count('Статья '):,} articles; "
        f"{diff.stats['replace']} changed blocks; redline .docx {len(data):,} bytes"
    )
    samples: dict[str, list[float]] = {"ours": [], "with_diff": [], "version": [], "pandoc": []}
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp, "new.md"), Path(tmp, "new.docx")
        source.write_text(new, encoding="utf-8")
        pandoc_docx(source, target)  # warm the page cache and pandoc's binary
        print(f"pandoc .docx {target.stat().st_size:,} bytes")
        for _ in range(args.repeat):
            samples["pandoc"].append(timed(lambda: pandoc_docx(source, target)))
            samples["ours"].append(timed(ours))
            samples["with_diff"].append(timed(ours_with_diff))
            samples["version"].append(timed(lambda: text_to_docx(new)))

    median = {name: statistics.median(times) for name, times in samples.items()}
    rows = [
        (f"redline, {args.size_mb:g} MB, 40 edits", "ours", 2.0),
        ("redline with the diff", "with_diff", 2.0),
        ("version .docx", "version", 2.0),
    ]
    print(
        f"\n{'case':<28} {'median':>10}   {'baseline':<24} {'median':>10} {'ratio':>7}"
        f" {'target':>7}"
    )
    failed = False
    for label, name, limit in rows:
        ratio = median[name] / median["pandoc"]
        failed |= name == "ours" and ratio > limit
        mark = "ok" if ratio <= limit else "MISSED"
        print(
            f"{label:<28} {median[name] * 1000:>8.1f}ms   {'pandoc -t docx':<24}"
            f" {median['pandoc'] * 1000:>8.1f}ms {ratio:>7.2f} {limit:>7.1f}  {mark}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
