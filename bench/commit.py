"""Time one signed version three ways on the same content: repo_store, HTTP API, git by hand.

Prints medians and the ratios a/c and b/c (targets: a/c <= 0.25, b/c <= 1.0). Not a test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from keys.master import create_master_key
from keys.party_keys import KeyStore
from repo_store.commits import Identity
from repo_store.store import RepoStore

PASSWORD = "bench password 12345"  # noqa: S105 - a throwaway bench account
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_http(work: Path, rounds: int) -> float:
    data = work / "data"
    env = {**os.environ, "PEERLEX_DATA": str(data)}
    cli = [sys.executable, "-m", "server.cli"]

    def admin(*args: str, stdin: str | None = None) -> None:
        subprocess.run(
            [*cli, *args], env=env, input=stdin, text=True, check=True, capture_output=True
        )

    admin("init")
    admin("party", "add", "BLR", "--name", "Republic of Belarus", "--kind", "state")
    admin(
        "user",
        "add",
        "bench@blr.example",
        "--party",
        "BLR",
        "--role",
        "expert",
        stdin=PASSWORD + "\n",
    )
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "run", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/api/v1/healthz")
                if conn.getresponse().read() and True:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

        def call(
            method: str, path: str, body: object, token: str | None = None
        ) -> dict[str, object]:
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            payload = json.loads(response.read())
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {payload}")
            result: dict[str, object] = payload
            return result

        token = str(
            call(
                "POST", "/api/v1/auth/tokens", {"email": "bench@blr.example", "password": PASSWORD}
            )["token"]
        )
        url = "/api/v1/parties/BLR/documents/law"
        first = call("PUT", url, {"content": content(-1), "message": "v0"}, token)
        state = {"base": first["version"]["commit"]}  # type: ignore[index]

        def one(i: int) -> None:
            saved = call(
                "PUT",
                url,
                {"content": content(i), "message": f"v{i}", "base": state["base"]},
                token,
            )
            state["base"] = saved["version"]["commit"]  # type: ignore[index]

        return median_ms(one, rounds)
    finally:
        server.terminate()
        server.wait(timeout=30)


def bench_git_by_hand(work: Path, rounds: int) -> float:
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

    return median_ms(one, rounds)


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
    print(f"  (b) HTTP API (PUT, keep-alive) {b:8.2f} ms")
    print(f"  (c) git add + git commit -S    {c:8.2f} ms   (baseline)")
    print(f"  a/c = {a / c:.2f}   (target <= 0.25)")
    print(f"  b/c = {b / c:.2f}   (target <= 1.00)")


if __name__ == "__main__":
    main()
