"""Attachments: our age encryption vs the age tool, and an HTTP upload to a committed attachment.

Prints medians, throughputs, the ratios to the age tool (targets: ours >= 0.5, HTTP >= 0.3)
and the server worker's peak RSS growth during the upload (target < 64 MiB). Not a test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from serve import BenchServer, rss_kib

from keys.age import encrypt, generate_x25519_identity, recipient_string

MIB = 1024 * 1024


def make_input(path: Path, size: int) -> None:
    block = bytes(range(256)) * 4096  # 1 MiB, not all zeros
    with path.open("wb") as handle:
        for _ in range(size // MIB):
            handle.write(block)
        handle.write(block[: size % MIB])


def median_s(runs: list[float]) -> float:
    return statistics.median(runs)


def time_ours(source: Path, target: Path, recipient: str) -> float:
    start = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as dst:
        encrypt(src, dst, [recipient])
    return time.perf_counter() - start


def time_age_tool(source: Path, target: Path, recipient: str) -> float:
    start = time.perf_counter()
    subprocess.run(["age", "-r", recipient, "-o", str(target), str(source)], check=True)
    return time.perf_counter() - start


def time_upload(server: BenchServer, source: Path) -> tuple[float, int]:
    """Upload source as an attachment; return seconds and the worker's RSS growth in KiB."""
    (worker,) = server.worker_pids()
    baseline = rss_kib(worker)
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(worker))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    conn = server.connection()
    start = time.perf_counter()
    with source.open("rb") as body:
        conn.request(
            "POST",
            "/api/v1/parties/BLR/documents/annexes/attachments?name=annex.bin",
            body=body,
            headers={
                "Authorization": f"Bearer {server.token}",
                "Content-Type": "application/octet-stream",
                "Content-Length": str(source.stat().st_size),
            },
        )
        response = conn.getresponse()
        response.read()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if response.status != 201:
        raise RuntimeError(f"upload failed: {response.status}")
    return elapsed, peak - baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * MIB
    recipient = recipient_string(generate_x25519_identity().public_key())
    with tempfile.TemporaryDirectory(prefix="peerlex-bench-") as tmp:
        work = Path(tmp)
        source = work / "annex.bin"
        make_input(source, size)
        ours = [time_ours(source, work / "ours.age", recipient) for _ in range(args.repeat)]
        tool = [time_age_tool(source, work / "tool.age", recipient) for _ in range(args.repeat)]
        (work / "ours.age").unlink()
        (work / "tool.age").unlink()
        server = BenchServer(work / "data")
        try:
            server.call(
                "PUT",
                "/api/v1/parties/BLR/documents/annexes",
                {"content": "Annexes\n", "message": "m"},
            )
            uploads = [time_upload(server, source) for _ in range(args.repeat)]
        finally:
            server.stop()
            shutil.rmtree(work / "data", ignore_errors=True)
    upload_s = median_s([u[0] for u in uploads])
    rss_growth = max(u[1] for u in uploads) / 1024
    t_ours, t_tool = median_s(ours), median_s(tool)
    print(f"attachment of {args.size_mib} MiB, median of {args.repeat}")
    print(f"  age tool (baseline)        {t_tool:7.2f} s  {args.size_mib / t_tool:8.1f} MiB/s")
    print(
        f"  keys.age encrypt           {t_ours:7.2f} s  {args.size_mib / t_ours:8.1f} MiB/s"
        f"   ratio {t_tool / t_ours:.2f} (target >= 0.5)"
    )
    print(
        f"  HTTP upload, committed     {upload_s:7.2f} s  {args.size_mib / upload_s:8.1f} MiB/s"
        f"   ratio {t_tool / upload_s:.2f} (target >= 0.3)"
    )
    print(f"  server worker peak RSS growth during upload: {rss_growth:.1f} MiB (target < 64)")


if __name__ == "__main__":
    main()
