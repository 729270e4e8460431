"""`peerlex push draft.docx`, `show --docx` and `diff --docx|--pdf` against a live server."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import docx

from clients.cli.exits import EXIT_INVALID, EXIT_OK
from tests.clients.test_cli import assert_one_line_error, login, peerlex
from tests.support.docx_files import make_docx, with_tracked_changes
from tests.support.live_server import LiveServer

DRAFT = [
    "Law on dual-use goods",
    "Article 1. Scope",
    "This Law applies to the export of dual-use goods.",
]
REDRAFT = [*DRAFT[:2], "This Law applies to the export and transit of dual-use goods."]


def push_docx(server: LiveServer, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return peerlex(
        server, "push", str(path), "--party", "BLR", "--slug", "dual-use", "--json", *args,
        profile="blr",
    )  # fmt: skip


def test_push_show_and_diff_as_word(server: LiveServer, tmp_path: Path) -> None:
    login(server, "blr", "expert@blr.example")
    first = tmp_path / "draft.docx"
    first.write_bytes(make_docx(DRAFT, title="Dual-use goods"))
    made = push_docx(server, first, "-m", "From Word", "--language", "en")
    assert made.returncode == EXIT_OK, made.stderr
    v1 = json.loads(made.stdout)["version"]["commit"]
    # A .docx without its extension is known by its first bytes.
    second = tmp_path / "redraft"
    second.write_bytes(make_docx(REDRAFT))
    updated = push_docx(server, second, "--base", v1, "-m", "Transit")
    assert updated.returncode == EXIT_OK, updated.stderr
    v2 = json.loads(updated.stdout)["version"]["commit"]
    text = peerlex(server, "show", "BLR", "dual-use", "--version", v2, profile="blr")
    assert "export and transit" in text.stdout

    out = tmp_path / "v2.docx"
    shown = peerlex(
        server, "show", "BLR", "dual-use", "--version", v2, "--docx", "-o", str(out),
        profile="blr",
    )  # fmt: skip
    assert shown.returncode == EXIT_OK, shown.stderr
    paragraphs = [p.text for p in docx.Document(io.BytesIO(out.read_bytes())).paragraphs]
    assert any("export and transit" in p for p in paragraphs)

    redline = tmp_path / "redline.docx"
    compared = peerlex(
        server, "diff", "BLR", "dual-use", "--from", v1, "--to", v2, "--docx", "-o",
        str(redline), profile="blr",
    )  # fmt: skip
    assert compared.returncode == EXIT_OK, compared.stderr
    accepted = subprocess.run(
        ["pandoc", "--track-changes=accept", "-f", "docx", "-t", "plain", str(redline)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "export and transit" in accepted

    printed = tmp_path / "redline.pdf"
    done = peerlex(
        server, "diff", "BLR", "dual-use", "--from", v1, "--to", v2, "--pdf", "-o",
        str(printed), profile="blr",
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    assert printed.read_bytes().startswith(b"%PDF-")


def test_refusals_leave_no_file(server: LiveServer, tmp_path: Path) -> None:
    login(server, "blr", "expert@blr.example")
    pending = tmp_path / "pending.docx"
    pending.write_bytes(with_tracked_changes(DRAFT, insertions=2, deletions=1))
    refused = peerlex(
        server, "push", str(pending), "--party", "BLR", "--slug", "pending-law", profile="blr"
    )
    line = assert_one_line_error(refused, EXIT_INVALID)
    assert "2 insertion" in line
    assert "1 deletion" in line
    missing = tmp_path / "none.docx"
    done = peerlex(
        server, "show", "BLR", "pending-law", "--docx", "-o", str(missing), profile="blr"
    )
    assert done.returncode != EXIT_OK
    assert not missing.exists()
    usage = peerlex(server, "diff", "BLR", "pending-law", "--docx", profile="blr")
    assert usage.returncode == 2
    assert "-o FILE" in usage.stderr
    both = peerlex(server, "diff", "BLR", "x", "--docx", "--pdf", "-o", str(missing), profile="blr")
    assert both.returncode == 2
