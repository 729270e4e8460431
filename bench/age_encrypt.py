"""Benchmark keys.age file encryption against the `age` tool, measured in the same run."""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from keys.age import encrypt, generate_x25519_identity, recipient_string

_MIB = 1024 * 1024


def _write_input(path: Path, size: int) -> None:
    """Write size bytes of incompressible data in 1 MiB pieces, never all in memory."""
    with path.open("wb") as stream:
        remaining = size
        while remaining:
            piece = min(remaining, _MIB)
            stream.write(os.urandom(piece))
            remaining -= piece


def _peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _current_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); report success."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _time_ours(source: Path, target: Path, recipient: str) -> float:
    start = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as dst:
        encrypt(src, dst, [recipient])
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def _time_age(age: str, source: Path, target: Path, recipient: str) -> float:
    start = time.perf_counter()
    subprocess.run([age, "-r", recipient, "-o", str(target), str(source)], check=True)
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def main() -> None:
    """Run the benchmark and print medians, throughputs, their ratio and peak RSS growth."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=512, help="input size (default 512)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    args = parser.parse_args()
    age = shutil.which("age")
    if age is None:
        sys.exit("the age tool is required for the baseline")
    recipient = recipient_string(generate_x25519_identity().public_key())
    size = args.size_mib * _MIB

    with tempfile.TemporaryDirectory(prefix="age-bench-") as directory:
        source = Path(directory) / "input"
        target = Path(directory) / "output.age"
        _write_input(source, size)
        # A first small run imports and initialises everything lazily loaded,
        # so the RSS figure is the cost of the streaming itself.
        small = Path(directory) / "small"
        _write_input(small, 1)
        _time_ours(small, target, recipient)

        rss_before = _current_rss_kib()
        exact = _reset_peak_rss()
        peak_before = rss_before if exact else _peak_rss_kib()
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(args.repeat):
            ours.append(_time_ours(source, target, recipient))
            theirs.append(_time_age(age, source, target, recipient))
        growth_kib = _peak_rss_kib() - peak_before

    ours_median = statistics.median(ours)
    age_median = statistics.median(theirs)
    ours_rate = args.size_mib / ours_median
    age_rate = args.size_mib / age_median
    print(f"input: {args.size_mib} MiB, {args.repeat} runs each, file to file")
    print(f"keys.age encrypt: median {ours_median:.3f} s  {ours_rate:8.1f} MiB/s")
    print(f"age -r (baseline): median {age_median:.3f} s  {age_rate:8.1f} MiB/s")
    print(f"throughput ratio keys.age / age: {ours_rate / age_rate:.2f} (target >= 0.5)")
    how = "VmHWM after reset" if exact else "VmHWM growth"
    print(f"peak RSS growth of keys.age encrypt: {growth_kib / 1024:.1f} MiB ({how}; target < 64)")


if __name__ == "__main__":
    main()
