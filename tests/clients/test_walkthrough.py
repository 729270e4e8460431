"""The README's walkthrough, run as written against a real server: the docs cannot rot."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.live_server import base_env, stop
from tests.support.ports import free_port

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- walkthrough:start -->", "<!-- walkthrough:end -->"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)


def walkthrough_commands() -> str:
    """Every ```sh block between the README's walkthrough markers, in order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(START) + len(START) : text.index(END)]
    blocks = SH_BLOCK.findall(section)
    assert blocks, "the README walkthrough has no sh blocks"
    return "\n".join(blocks)


def test_readme_walks_through_a_whole_review(tmp_path: Path) -> None:
    script = tmp_path / "walkthrough.sh"
    script.write_text("set -euo pipefail\n" + walkthrough_commands(), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    env = base_env(tmp_path)
    env.update(PEERLEX_DATA=str(tmp_path / "data"), PEERLEX_PORT=str(free_port()))
    started = time.monotonic()
    # Its own session, so that a server the script started is stopped even if the script fails.
    with subprocess.Popen(
        ["bash", str(script)],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=120)
        finally:
            stop(process)
    elapsed = time.monotonic() - started
    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == 0, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert "VERIFIED: every check passed" in stdout
    assert "refused (exit code 5)" in stdout  # push without --base names the current head
    assert "--base" in stderr
    assert "quote reworded" in stdout  # the earlier comment, re-anchored on the new version
    assert "Traceback" not in stderr
    assert (tmp_path / "data" / "bundles" / "dushanbe-2017.tar").exists()
    if elapsed > 60:
        pytest.fail(f"the walkthrough took {elapsed:.0f} s; keep it under a minute")
