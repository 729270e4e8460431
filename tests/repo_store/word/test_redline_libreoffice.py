"""LibreOffice's own Accept All and Reject All on a redline give each version as exported alone."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from repo_store.diff import diff_texts
from repo_store.diff.blocks import parse_blocks
from repo_store.word.redline import redline_to_docx
from repo_store.word.writer import text_to_docx
from tests.repo_store.word.redline_cases import PAIRS

WHEN = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
SCRIPT = Path(__file__).with_name("libreoffice_resolve.py")
# LibreOffice's UNO bridge is a module of the system's Python (Debian's python3-uno).
SYSTEM_PYTHON = "/usr/bin/python3"


def _redline(name: str) -> bytes:
    # Without comments: LibreOffice 7.4 driven over UNO fails to load any document with
    # comments, one python-docx writes as well; its command-line conversion opens ours
    # (test_redline_comments.py).
    old, new = PAIRS[name]
    return redline_to_docx(diff_texts(old, new), author="KGZ", date=WHEN, old_text=old).data


def _run_in_own_group(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    """Run the script in a process group of its own and end the group afterwards, so that no
    LibreOffice process outlives the test, whatever happened."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def test_libreoffice_accept_all_and_reject_all(tmp_path: Path) -> None:
    jobs = []
    for name, (old, new) in PAIRS.items():
        for label, data in (
            ("redline", _redline(name)),
            ("new", text_to_docx(new)),
            ("old", text_to_docx(old)),
        ):
            (tmp_path / f"{name}.{label}.docx").write_bytes(data)
        for label, mode in (("redline", "accept"), ("redline", "reject"), ("new", ""), ("old", "")):
            source = tmp_path / f"{name}.{label}.docx"
            jobs.append([str(source), mode or "none", str(tmp_path / f"{name}.{label}.{mode}.txt")])
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    done = _run_in_own_group(
        [SYSTEM_PYTHON, str(SCRIPT), str(tmp_path / "lo-profile"), str(tmp_path / "jobs.json")]
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")

    def text(name: str, label: str, mode: str) -> str:
        return (tmp_path / f"{name}.{label}.{mode}.txt").read_text(encoding="utf-8-sig")

    for name, (_, new) in PAIRS.items():
        assert text(name, "redline", "accept") == text(name, "new", ""), name
        assert text(name, "redline", "reject") == text(name, "old", ""), name
        # The exports are the versions' words, not empty pages.
        if new:
            assert parse_blocks(new)[-1].text.split()[-1] in text(name, "new", "")
