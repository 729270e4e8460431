"""Time one version of a self-custody State over HTTP, signed on the client by ssh-keygen,
against `git add` + `git commit -S` by hand on the same content, in the same run.

(b) is the two requests a delegate's client makes (the signing request, then the signature)
with `ssh-keygen -Y sign` between them; (c) is git signing with an SSH key file. Prints the
medians and b/c (target <= 1.5). The two are timed in turn, round by round, so that
the machine's noise falls on both alike. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from commit import content, git_by_hand
from serve import BenchServer

URL = "/api/v1/parties/BLR/documents/law/versions/requests"


def sign(key: Path, payload: str) -> str:
    done = subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", "git"],
        input=payload.encode(),
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


def self_custody(server: BenchServer, work: Path) -> Callable[[int], None]:
    """A self-custody State with one delegate's registered key; returns one version's round."""
    key = work / "delegate"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    conn = server.connection()
    public_key = key.with_suffix(".pub").read_text().strip()
    server.call("POST", "/api/v1/me/keys", {"public_key": public_key})

    def version(body: dict[str, str]) -> str:
        request = server.call("POST", URL, body, conn)
        signature = sign(key, request["payload"])
        saved = server.call("POST", f"{URL}/{request['id']}", {"signature": signature}, conn)
        return str(saved["version"]["commit"])

    state = {"base": version({"content": content(-1), "message": "v0"})}

    def one(i: int) -> None:
        body = {"content": content(i), "message": f"v{i}", "base": state["base"]}
        state["base"] = version(body)

    return one


def interleaved_medians(runs: dict[str, Callable[[int], None]], rounds: int) -> dict[str, float]:
    """Each run once per round, in turn, so that the machine's noise falls on all alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run(i)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(found) * 1000 for name, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "b").mkdir()
        (work / "c").mkdir()
        server = BenchServer(work / "b" / "data", custody="self")
        try:
            runs = {"b": self_custody(server, work / "b"), "c": git_by_hand(work / "c")}
            found = interleaved_medians(runs, args.rounds)
        finally:
            server.stop()
    b, c = found["b"], found["c"]
    print(f"self-custody version, median of {args.rounds}, rounds interleaved (durable: objects")
    print("and ref fsynced on the server)")
    print(f"  (b) HTTP request + ssh-keygen -Y sign + HTTP signature   {b:8.2f} ms")
    print(f"  (c) git add + git commit -S                               {c:8.2f} ms   (baseline)")
    print(f"  b/c = {b / c:.2f}   (target <= 1.50)")


if __name__ == "__main__":
    main()
