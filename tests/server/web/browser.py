"""For the browser tests: Debian's Chromium, where screenshots go, and the seeded data directory
served by a `peerlex-server run` process of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from tests.server.web.pages import WebWorld
from tests.support.accounts import TEST_SCRYPT_N
from tests.support.live_server import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# The set-up link `peerlex-server init` prints on its own line, for the default host and port.
SETUP_LINE = re.compile(r"^http://localhost:8000(/setup/[\w-]{43})$", re.MULTILINE)


def fresh_data_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a deployment whose data directory is new, under tmp_path, where
    heads, organisers and administrators must hold a second factor."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
    env.update(
        PEERLEX_DATA=str(tmp_path / "data"),
        PEERLEX_INSECURE_COOKIES="1",
        PEERLEX_SCRYPT_N=str(TEST_SCRYPT_N),
        PEERLEX_REQUIRE_MFA="roles",
    )
    return env


def server_cli(env: dict[str, str], *args: str) -> str:
    """Run `peerlex-server ARGS` in env; its standard output, once it succeeded."""
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def served(app: Flask, tmp_path: Path, require_mfa: str) -> Iterator[str]:
    """Serve the seeded data directory from a separate `peerlex-server run` process."""
    data = app.extensions["peerlex.config"].data_dir
    app.extensions["peerlex.db"].engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
    env.update(
        PEERLEX_DATA=str(data),
        PEERLEX_INSECURE_COOKIES="1",
        PEERLEX_SCRYPT_N=str(TEST_SCRYPT_N),
        PEERLEX_REQUIRE_MFA=require_mfa,
    )
    database_url = app.extensions["peerlex.config"].database_url
    if database_url:
        env["PEERLEX_DATABASE_URL"] = database_url
    with serving(env, tmp_path / "server.log", "--workers", "1", seconds=30) as (port, _):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def live_url(app: Flask, web_world: WebWorld, tmp_path: Path) -> Iterator[str]:
    with served(app, tmp_path, app.extensions["peerlex.config"].require_mfa) as url:
        yield url


@pytest.fixture
def live_url_requiring_mfa(app: Flask, web_world: WebWorld, tmp_path: Path) -> Iterator[str]:
    """The same world served where heads, organisers and admins must hold a second factor."""
    with served(app, tmp_path, "roles") as url:
        yield url
