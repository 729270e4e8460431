"""Time one signed version three ways on the same content: repo_store, HTTP API, git by hand.

Prints medians and the ratios a/c and b/c (targets: a/c <= 0.25, b/c <= 1.0). Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from serve import BenchServer

from keys.master import create_master_key
from keys.party_keys import KeyStore
from repo_store.commits import Identity
from repo_store.store import RepoStore

PARAGRAPH = (
    "Статья {n}. Лицензирование экспорта товаров двойного назначения\n\n"
    "(1) Экспорт товаров, включённых в национальный контрольный список, осуществляется на "
    "основании лицензии, выдаваемой уполномоченным органом.\n\n"
)


def content(round_no: int) -> str:
    body = "".join(PARAGRAPH.format(n=n) for n in range(1, 40))
    return f"# Закон об экспортном контроле\n\nРедакция {round_no}\n\n{body}"


def median_ms(run: Callable[[int], None], rounds: int) -> float:
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_repo_store(work: Path, rounds: int) -> float:
    keys = KeyStore(work / "keys", create_master_key(work / "master.key"))
    keys.create("BLR")
    store = RepoStore(work / "repos", keys)
    store.create_repository("BLR")
    author = Identity("Bench", "bench@blr.example")
    base, _ = store.put_document(
        "BLR",
        "law",
        content(-1),
        {"title": "Law"},
        base=None,
        author=author,
        committer_name="Belarus",
        message="v0",
    )
    state = {"base": base}

    def one(i: int) -> None:
        state["base"], _ = store.put_document(
            "BLR",
            "law",
            content(i),
            {},
            base=state["base"],
            author=author,
            committer_name="Belarus",
            message=f"v{i}",
        )

    return median_ms(one, rounds)


def bench_http(work: Path, rounds: int) -> float:
    server = BenchServer(work / "data")
    try:
        conn = server.connection()  # reopened by http.client after each response
        url = "/api/v1/parties/BLR/documents/law"
        first = server.call("PUT", url, {"content": content(-1), "message": "v0"}, conn)
        state = {"base": first["version"]["commit"]}

        def one(i: int) -> None:
            body = {"content": content(i), "message": f"v{i}", "base": state["base"]}
            state["base"] = server.call("PUT", url, body, conn)["version"]["commit"]

        return median_ms(one, rounds)
    finally:
        server.stop()


def git_by_hand(work: Path) -> Callable[[int], None]:
    """A repository committed to with `git commit -S` and an SSH key; returns one round."""
    repo = work / "by-hand"
    repo.mkdir()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "id")], check=True
    )

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    for key, value in [
        ("user.name", "Bench"),
        ("user.email", "bench@blr.example"),
        ("gpg.format", "ssh"),
        ("user.signingkey", str(work / "id")),
    ]:
        git("config", key, value)
    (repo / "law.md").write_text(content(-1))
    git("add", "law.md")
    git("commit", "-q", "-S", "-m", "v0")

    def one(i: int) -> None:
        (repo / "law.md").write_text(content(i))
        git("add", "law.md")
        git("commit", "-q", "-S", "-m", f"v{i}")

    return one


def bench_git_by_hand(work: Path, rounds: int) -> float:
    return median_ms(git_by_hand(work), rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "a").mkdir()
        (work / "b").mkdir()
        (work / "c").mkdir()
        a = bench_repo_store(work / "a", args.rounds)
        b = bench_http(work / "b", args.rounds)
        c = bench_git_by_hand(work / "c", args.rounds)
    print(f"signed version, median of {args.rounds} (durable: objects and ref fsynced)")
    print(f"  (a) repo_store in-process      {a:8.2f} ms")
    print(f"  (b) HTTP API (PUT)             {b:8.2f} ms")
    print(f"  (c) git add + git commit -S    {c:8.2f} ms   (baseline)")
    print(f"  a/c = {a / c:.2f}   (target <= 0.25)")
    print(f"  b/c = {b / c:.2f}   (target <= 1.00)")


if __name__ == "__main__":
    main()
