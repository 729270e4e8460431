"""Eight comparisons of the costliest documents the limits admit, asked at once of a real
two-worker server: the health check still answers within a second, no worker grows past
512 MiB, and each comparison is either answered or refused at once with 503 and Retry-After."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.load.test_concurrent_writers import cli
from tests.support.diff_worst import alternating_words
from tests.support.live_server import serving

PASSWORD = "diff load password 2017"
WORKER_MEMORY = 512 * 1024 * 1024
HEALTH_SECONDS = 1.0
DOC = "/api/v1/parties/BLR/documents/control-list"


def call(port: int, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    """One request on its own connection: status, headers, body, seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    start = time.monotonic()
    try:
        connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=headers
        )
        response = connection.getresponse()
        raw = response.read()
        return response.status, dict(response.getheaders()), raw, time.monotonic() - start
    finally:
        connection.close()


def worker_pids(master: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            found.append(int(entry.name))
    return found


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`peerlex-server run` with its default two workers of four threads, on SQLite."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
    env.update(PEERLEX_DATA=str(tmp_path / "data"), PEERLEX_SCRYPT_N="1024")
    cli(env, "init")
    cli(env, "party", "add", "BLR", "--name", "Belarus", "--kind", "state")
    cli(env, "user", "add", "expert@blr.example", "--party", "BLR", "--role", "expert",
        stdin=PASSWORD + "\n")  # fmt: skip
    with serving(env, tmp_path / "server.log") as (port, process):
        yield port, process


def test_eight_worst_comparisons_at_once_leave_the_server_responsive(
    server: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, process = server
    status, _, raw, _ = call(
        port,
        "POST",
        "/api/v1/auth/tokens",
        body={"email": "expert@blr.example", "password": PASSWORD},
    )
    assert status == 201, raw
    token = json.loads(raw)["token"]
    old, new = alternating_words()
    texts = [old, new, "Преамбула.\n\n" + old[old.index("\n\n") + 2 :], new.replace("w1x", "z1x")]
    versions: list[str] = []
    for text in texts:
        body = {"content": text, "message": "draft", **({"base": versions[-1]} if versions else {})}
        status, _, raw, _ = call(port, "PUT", DOC, token, body)
        assert status in (200, 201), raw[:300]
        versions.append(json.loads(raw)["version"]["commit"])
    pairs = [(a, b) for i, a in enumerate(versions) for b in versions[i + 1 :]]
    asks = [f"{DOC}/diff?from={a}&to={b}&format=json" for a, b in pairs]
    asks += [f"{DOC}/diff?from={a}&to={b}&format=html" for a, b in pairs[:2]]
    assert len(asks) == 8

    health: list[float] = []
    answers: dict[str, tuple[int, dict[str, str], float]] = {}
    running = threading.Event()
    running.set()

    def probe() -> None:
        while running.is_set():
            health.append(call(port, "GET", "/api/v1/healthz")[3])
            time.sleep(0.05)

    def ask(path: str) -> None:
        status, headers, _, seconds = call(port, "GET", path, token)
        answers[path] = (status, headers, seconds)

    prober = threading.Thread(target=probe)
    askers = [threading.Thread(target=ask, args=(path,)) for path in asks]
    prober.start()
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join(300)
    running.clear()
    prober.join(10)

    assert len(answers) == 8
    statuses = sorted(status for status, _, _ in answers.values())
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses
    for status, headers, seconds in answers.values():
        if status == 503:
            assert headers["Retry-After"].isdigit()
            assert seconds < HEALTH_SECONDS
    assert len(health) >= 5
    assert max(health) < HEALTH_SECONDS, sorted(health)[-5:]
    workers = worker_pids(process.pid)
    assert len(workers) == 2
    for pid in workers:
        assert peak_rss(pid) < WORKER_MEMORY
    # A computed comparison is now read from the cache, in any worker.
    done = next(path for path, (status, _, _) in answers.items() if status == 200)
    status, _, _, seconds = call(port, "GET", done, token)
    assert status == 200
    assert seconds < HEALTH_SECONDS
