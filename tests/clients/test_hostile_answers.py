"""Whatever a server answers, `peerlex` prints no character that acts on a terminal.

A crafted server (a real HTTP server in a thread) puts escape sequences, a carriage return, a
bidi override and a C1 CSI into every string of every answer: titles, messages, names, ids,
dates, error titles and details. A stored old value or a hostile server looks the same.
"""

from __future__ import annotations

import json
import stat
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from clients.cli import main
from clients.cli.exits import (
    EXIT_AUTH,
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_OK,
)
from clients.profiles import Profile, save_profile
from tests.support.umask import umask_set_to

EVIL = "A\x1b[2J\rB\u202eC\x9bD\x1b]0;owned\x07E"
RAW = ("\x1b", "\r", "\u202e", "\x9b", "\x07")

VERSION = {
    "commit": EVIL,
    "parent": None,
    "author": {"name": EVIL, "email": EVIL},
    "message": EVIL,
    "committed_at": "2026-01-01T00:00:00" + EVIL,
    "signature": {"status": "good", "fingerprint": EVIL, "party": EVIL},
}
SUMMARY = {
    "party": EVIL,
    "slug": EVIL,
    "title": EVIL,
    "kind": EVIL,
    "language": EVIL,
    "version": VERSION,
}
ATTACHMENT = {
    "party": EVIL,
    "slug": EVIL,
    "id": EVIL,
    "name": EVIL,
    "media_type": EVIL,
    "size": 5,
    "sha256": EVIL,
    "recipients": [EVIL],
    "created_at": EVIL,
    "uploaded_by": EVIL,
}
REVIEW = {
    "id": 1,
    "slug": EVIL,
    "title": EVIL,
    "state": EVIL,
    "states": [EVIL],
    "organisers": [EVIL],
    "observers": [EVIL],
}
SHARE = {"party": EVIL, "slug": EVIL, "version": EVIL, "shared_by": EVIL, "shared_at": EVIL}
ANCHOR = {"status": EVIL, "block": EVIL, "quote": EVIL + "\n" + EVIL, "version": EVIL}
COMMENT = {
    "id": 1,
    "party": EVIL,
    "slug": EVIL,
    "version": EVIL,
    "parent": None,
    "author": EVIL,
    "author_party": EVIL,
    "body": EVIL + "\n" + EVIL,
    "status": EVIL,
    "quote": EVIL,
    "anchor": ANCHOR,
}
REPLY = {**COMMENT, "id": 2, "parent": 1}
APPROVAL = {"party": EVIL, "slug": EVIL, "version": EVIL, "approved_by": EVIL, "voided": False}
RECIPIENT = {"party": EVIL, "recipient": EVIL, "label": EVIL}
DIFF = {
    "party": EVIL,
    "slug": EVIL,
    "from": EVIL,
    "to": EVIL,
    "stats": {"replace": 1, "move": 1},
    "blocks": [
        {
            "op": "replace",
            "tokens": [{"op": "delete", "text": EVIL}, {"op": "insert", "text": EVIL}],
        },
        {"op": "move", "old_id": EVIL, "text": EVIL},
    ],
    "warnings": [{"name": EVIL, "code_point": EVIL, "side": EVIL, "block": EVIL}],
}
INVITATION = {
    "id": 1,
    "email": EVIL,
    "party": EVIL,
    "role": EVIL,
    "invited_by": EVIL,
    "created_at": EVIL,
    "expires_at": EVIL,
}
PROBLEM = {"type": "https://x/" + EVIL, "title": EVIL, "detail": EVIL}

ANSWERS: dict[tuple[str, str], tuple[int, Any]] = {
    ("GET", "me"): (
        200,
        {"email": EVIL, "is_admin": True, "memberships": [{"party": EVIL, "role": EVIL}]},
    ),
    ("GET", "healthz"): (200, {"status": EVIL}),
    ("GET", "parties"): (200, [{"code": EVIL, "name": EVIL, "kind": EVIL}]),
    ("GET", "parties/BLR/documents"): (200, [SUMMARY]),
    ("PUT", "parties/BLR/documents/law"): (201, SUMMARY),
    ("GET", "parties/BLR/documents/law/versions"): (
        200,
        [VERSION, {**VERSION, "signature": {"status": EVIL, "party": None}}],
    ),
    ("GET", "parties/BLR/documents/law/diff"): (200, DIFF),
    ("POST", "parties/BLR/documents/law/attachments"): (201, ATTACHMENT),
    ("GET", "parties/BLR/documents/law/attachments"): (200, [ATTACHMENT]),
    ("GET", "reviews"): (200, [REVIEW]),
    ("POST", "reviews"): (201, REVIEW),
    ("PATCH", "reviews/r"): (200, REVIEW),
    ("POST", "reviews/r/shares"): (201, SHARE),
    ("GET", "reviews/r/shares"): (200, [SHARE]),
    ("GET", "reviews/r/comments"): (200, [COMMENT, REPLY]),
    ("POST", "reviews/r/comments"): (201, REPLY),
    ("PATCH", "reviews/r/comments/1"): (200, COMMENT),
    ("POST", "reviews/r/approvals"): (201, APPROVAL),
    ("GET", "reviews/r/approvals"): (200, [APPROVAL]),
    ("POST", "parties/UNRCPD/recipients"): (201, RECIPIENT),
    ("GET", "parties/UNRCPD/recipients"): (200, [RECIPIENT]),
    ("POST", "reviews/r/bundle"): (
        201,
        {"review": EVIL, "sha256": EVIL, "size": 1, "documents": EVIL, "attachments": 0},
    ),
    ("POST", "invitations"): (
        201,
        {**INVITATION, "url": "https://x.example/invitations/" + "A" * 43},
    ),
    ("GET", "invitations"): (200, {"invitations": [INVITATION]}),
    ("DELETE", "invitations/1"): (200, INVITATION),
    # Refusals, each with a hostile title, detail and extra members.
    ("GET", "parties/NF/documents"): (404, PROBLEM),
    ("GET", "parties/FB/documents"): (403, PROBLEM),
    ("GET", "parties/TM/documents"): (429, {**PROBLEM, "retry_after": 3}),
    ("GET", "parties/SE/documents"): (500, PROBLEM),
    ("GET", "parties/AU/documents"): (401, PROBLEM),
    ("PUT", "parties/CF/documents/law"): (409, {**PROBLEM, "head": EVIL}),
    ("PUT", "parties/VF/documents/law"): (422, {**PROBLEM, "errors": {EVIL: [EVIL]}}),
    ("POST", "reviews/cf/bundle"): (
        409,
        {**PROBLEM, "missing": [{"party": EVIL, "slug": EVIL}]},
    ),
}
BUNDLE_BYTES = b"not really a tar, but bytes to save\n"


class CraftedApi(BaseHTTPRequestHandler):
    """Answers every request from ANSWERS, whatever it was asked."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = urlsplit(self.path).path.removeprefix("/api/v1/")
        if (self.command, path) == ("GET", "reviews/r/bundle"):
            self._send(200, BUNDLE_BYTES, "application/x-tar")
            return
        status, body = ANSWERS.get((self.command, path), (404, PROBLEM))
        kind = "application/json" if status < 400 else "application/problem+json"
        self._send(status, json.dumps(body).encode(), kind)

    def _send(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *_: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture(autouse=True)
def _keep_umask() -> Iterator[None]:
    """`peerlex` sets its own umask; the one the test started with comes back afterwards."""
    with umask_set_to(0o022):
        yield


@pytest.fixture
def crafted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A crafted server and a profile logged in to it; answers the work directory."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CraftedApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PEERLEX_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PEERLEX_PROFILE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    save_profile(Profile("default", url, "me@example", "plx_token", "2999-01-01T00:00:00Z"))
    (tmp_path / "law.md").write_text("# Law\n")
    monkeypatch.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        server.shutdown()
        server.server_close()


COMMANDS: list[tuple[list[str], int]] = [
    (["whoami"], EXIT_OK),
    (["ping"], EXIT_OK),
    (["parties"], EXIT_OK),
    (["docs", "BLR"], EXIT_OK),
    (["log", "BLR", "law"], EXIT_OK),
    (["log", "-q", "BLR", "law"], EXIT_OK),
    (["push", "law.md", "--party", "BLR", "--slug", "law"], EXIT_OK),
    (["push", "-q", "law.md", "--party", "BLR", "--slug", "law"], EXIT_OK),
    (["diff", "BLR", "law"], EXIT_OK),
    (["attach", "law.md", "--party", "BLR", "--slug", "law"], EXIT_OK),
    (["attachments", "BLR", "law"], EXIT_OK),
    (["attachments", "-q", "BLR", "law"], EXIT_OK),
    (["reviews"], EXIT_OK),
    (["review-create", "r", "--title", "t", "--states", "BLR"], EXIT_OK),
    (["review-state", "r", "agreement"], EXIT_OK),
    (["share", "r", "--party", "BLR", "--slug", "law", "--version", "v"], EXIT_OK),
    (["shares", "r"], EXIT_OK),
    (["comments", "r"], EXIT_OK),
    (["comment", "r", "--body", "b", "--parent", "1", "--json"], EXIT_OK),
    (["resolve", "r", "1"], EXIT_OK),
    (["approve", "r", "--party", "BLR", "--slug", "law", "--version", "v"], EXIT_OK),
    (["approvals", "r"], EXIT_OK),
    (["recipient", "add", "UNRCPD", "age1x"], EXIT_OK),
    (["recipient", "list", "UNRCPD"], EXIT_OK),
    (["bundle", "build", "r"], EXIT_OK),
    (["invite", "a@b.example", "--party", "BLR", "--role", "expert"], EXIT_OK),
    (["invitations"], EXIT_OK),
    (["invitations", "list"], EXIT_OK),
    (["invitations", "revoke", "1"], EXIT_OK),
    (["docs", "NF"], EXIT_NOT_FOUND),
    (["docs", "FB"], EXIT_AUTH),
    (["docs", "TM"], EXIT_AUTH),
    (["docs", "SE"], EXIT_FAILED),
    (["push", "law.md", "--party", "CF", "--slug", "law"], EXIT_CONFLICT),
    (["push", "law.md", "--party", "CF", "--slug", "law", "--base", "b"], EXIT_CONFLICT),
    (["push", "law.md", "--party", "VF", "--slug", "law"], EXIT_INVALID),
    (["bundle", "build", "cf"], EXIT_CONFLICT),
]


def _assert_inert(text: str, raw: tuple[str, ...] = RAW) -> None:
    found = [repr(ch) for ch in raw if ch in text]
    assert not found, (found, text)


def _strings(data: Any) -> set[str]:
    if isinstance(data, str):
        return {data}
    if isinstance(data, dict):
        return {s for value in data.values() for s in _strings(value)}
    if isinstance(data, list):
        return {s for value in data for s in _strings(value)}
    return set()


@pytest.mark.parametrize(
    ("args", "code"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_no_server_string_acts_on_the_terminal(crafted: Path, args: list[str], code: int) -> None:
    """Every command, on success or refusal: the hostile characters are shown as escapes."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, (result.output, result.exception)
    _assert_inert(result.stdout)
    _assert_inert(result.stderr)
    shown = result.stdout + result.stderr
    # The value was printed, escaped, rather than left out (ping and -q print ids and states).
    assert "\\x1b[2J" in shown or "\\u202e" in shown, shown


@pytest.mark.parametrize(
    "args",
    [
        ["whoami", "--json"],
        ["docs", "BLR", "--json"],
        ["log", "BLR", "law", "--json"],
        ["comments", "r", "--json"],
        ["diff", "BLR", "law", "--format", "json"],
        ["attachments", "BLR", "law", "--json"],
        ["reviews", "--json"],
    ],
)
def test_json_output_escapes_what_json_dumps_leaves_raw(crafted: Path, args: list[str]) -> None:
    """--json is the same data (it parses back to what the server sent), with C1 controls and
    bidi characters written as \\u escapes, which json.dumps(ensure_ascii=False) leaves raw."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == EXIT_OK, result.output
    _assert_inert(result.stdout)
    assert EVIL in _strings(json.loads(result.stdout))
    assert "\\u009b" in result.stdout
    assert "\\u202e" in result.stdout


def test_a_downloaded_bundle_is_readable_by_its_owner_alone(crafted: Path) -> None:
    """`bundle pull` under a permissive umask still writes a file only its owner can read."""
    result = CliRunner().invoke(main, ["bundle", "pull", "r", "-o", "bundle.tar"])
    assert result.exit_code == EXIT_OK, result.output
    saved = crafted / "bundle.tar"
    assert saved.read_bytes() == BUNDLE_BYTES
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


def test_a_coloured_redline_escapes_the_server_text_and_keeps_its_own_colours(
    crafted: Path,
) -> None:
    """With --color always the CLI writes its own SGR codes; the server's sequences stay inert."""
    result = CliRunner().invoke(main, ["diff", "BLR", "law", "--color", "always"])
    assert result.exit_code == EXIT_OK, result.output
    assert "\x1b[1m" in result.stdout  # the header in bold: the CLI's own styling
    _assert_inert(result.stdout, tuple(ch for ch in RAW if ch != "\x1b"))
    assert "\x1b[2J" not in result.stdout
    assert "\x1b]0;" not in result.stdout
    assert "\\x1b[2J" in result.stdout


def test_an_unaccepted_session_is_one_plain_line(crafted: Path) -> None:
    """A 401 carries a hostile detail too; the CLI says what to do and prints none of it."""
    result = CliRunner().invoke(main, ["docs", "AU"])
    assert result.exit_code == EXIT_AUTH
    _assert_inert(result.stdout + result.stderr)
    assert "log in again" in result.stderr


def test_verify_shows_a_hostile_bundle_s_names_escaped(tmp_path: Path) -> None:
    """A bundle is attacker input too: the names `peerlex verify` reports are shown inert."""
    folder = tmp_path / EVIL.replace("\x07", "")
    folder.mkdir()
    (folder / "README.txt").write_text("hello\n")
    bundle = tmp_path / "hostile.tar"
    with tarfile.open(bundle, "w") as tar:
        tar.add(folder, arcname=folder.name)
    result = CliRunner().invoke(main, ["verify", str(bundle)])
    assert result.exit_code == EXIT_FAILED
    _assert_inert(result.stdout + result.stderr)
    assert "A\\x1b[2J" in result.stdout
