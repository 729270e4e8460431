"""A real peerlex server in its own process: started on a free port, or seeded by `demo`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port

BIN = Path(sys.executable).parent
PEERLEX = str(BIN / "peerlex")
PEERLEX_SERVER = str(BIN / "peerlex-server")
DEMO_PASSWORD = "dushanbe-demo-2017"
# Cheap password hashing keeps the demo and every login fast; production uses 2**15.
FAST_SCRYPT = "1024"


def base_env(tmp: Path) -> dict[str, str]:
    """The environment of a user whose every peerlex file lives under tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PEERLEX_CONFIG_DIR=str(tmp / "config"),
        PEERLEX_SCRYPT_N=FAST_SCRYPT,
        # The demo's heads and organisers sign in with passwords alone (tests/clients enrols
        # a second factor where it tests one).
        PEERLEX_REQUIRE_MFA="none",
        NO_COLOR="1",
    )
    return env


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not answer within {seconds} s")


@contextmanager
def serving(
    env: dict[str, str], log_path: Path, *run_args: str, seconds: float = 60
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`peerlex-server run` on a free port with env until the block ends; output to log_path."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "run", "--port", str(port), *run_args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            try:
                wait_until_up(f"http://127.0.0.1:{port}", process, seconds)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}:\n{log_path.read_text()[-3000:]}") from exc
            yield port, process
        finally:
            stop(process)


@dataclass
class LiveServer:
    url: str
    data: Path
    env: dict[str, str]


@contextmanager
def live_server(tmp: Path, **extra_env: str) -> Iterator[LiveServer]:
    """Seed a demo data directory in tmp and serve it on a free port until the block ends."""
    env = base_env(tmp)
    data = tmp / "data"
    env.update(PEERLEX_DATA=str(data), **extra_env)
    subprocess.run([PEERLEX_SERVER, "demo"], env=env, check=True, capture_output=True)
    port = free_port()
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        [PEERLEX_SERVER, "run", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield LiveServer(url, data, {**env, "PEERLEX_SERVER": url})
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process and everything in its process group."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def one_error_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The single line a `peerlex` command that failed with exit code `code` wrote to stderr."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]
