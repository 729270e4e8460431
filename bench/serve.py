"""A real peerlex server for benchmarks: a data directory, one party and user, gunicorn."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The repository root, for the helpers the benchmarks share with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.ports import free_port

PASSWORD = "bench password 12345"  # noqa: S105 - a throwaway bench account
CLI = [sys.executable, "-m", "server.cli"]


class BenchServer:
    """`peerlex-server run` on a free port with party BLR and one expert."""

    def __init__(self, data: Path, workers: int = 1, custody: str = "server") -> None:
        self.data = data
        self.env = {**os.environ, "PEERLEX_DATA": str(data), "PEERLEX_REQUIRE_MFA": "none"}
        self.admin("init")
        self.admin(
            "party",
            "add",
            "BLR",
            "--name",
            "Republic of Belarus",
            "--kind",
            "state",
            "--custody",
            custody,
        )
        self.admin(
            "user",
            "add",
            "bench@blr.example",
            "--party",
            "BLR",
            "--role",
            "expert",
            stdin=PASSWORD + "\n",
        )
        self.port = free_port()
        self.process = subprocess.Popen(
            [*CLI, "run", "--port", str(self.port), "--workers", str(workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.connection().request("GET", "/api/v1/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.token = str(
            self.call(
                "POST", "/api/v1/auth/tokens", {"email": "bench@blr.example", "password": PASSWORD}
            )["token"]
        )

    def admin(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run(
            [*CLI, *args], env=self.env, input=stdin, text=True, check=True, capture_output=True
        )

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        conn: http.client.HTTPConnection | None = None,
    ) -> dict[str, Any]:
        conn = conn or self.connection()
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = conn.getresponse()
        payload = json.loads(response.read() or b"{}")
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload}")
        result: dict[str, Any] = payload
        return result

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
