"""`peerlex` as a user meets it: one plain line on stderr and a telling exit code on failure."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
import subprocess
from pathlib import Path

from clients.cli.exits import (
    EXIT_AUTH,
    EXIT_CONFLICT,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from tests.support.live_server import DEMO_PASSWORD, PEERLEX, LiveServer
from tests.support.ports import free_port

LAW = "# Draft law\n\nArticle 1. Scope\n\nThis Law applies to exports.\n"


def peerlex(
    server: LiveServer, *args: str, stdin: str = "", profile: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [PEERLEX, *(["--profile", profile] if profile else []), *args]
    return subprocess.run(
        command, input=stdin, env=server.env, capture_output=True, text=True, timeout=60
    )


def login(server: LiveServer, profile: str, email: str) -> None:
    done = peerlex(server, "login", "--email", email, stdin=DEMO_PASSWORD + "\n", profile=profile)
    assert done.returncode == EXIT_OK, done.stderr


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("peerlex: error: ")
    return lines[0]


def profiles_file(server: LiveServer) -> Path:
    return Path(server.env["PEERLEX_CONFIG_DIR"]) / "profiles.json"


def test_login_keeps_the_token_in_a_private_file(server: LiveServer) -> None:
    login(server, "private", "expert@blr.example")
    path = profiles_file(server)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())["profiles"]["private"]
    assert saved["email"] == "expert@blr.example"
    assert saved["server"] == server.url
    assert saved["token"].startswith("plx_")
    who = peerlex(server, "whoami", profile="private")
    assert "expert of BLR" in who.stdout


def test_wrong_password_is_refused_in_one_line(server: LiveServer) -> None:
    done = peerlex(
        server, "login", "--email", "expert@blr.example", stdin="not the password\n", profile="x"
    )
    line = assert_one_line_error(done, EXIT_AUTH)
    assert "wrong email or password" in line
    assert "x" not in json.loads(profiles_file(server).read_text() or "{}").get("profiles", {})


def test_not_logged_in(server: LiveServer) -> None:
    line = assert_one_line_error(peerlex(server, "parties", profile="nobody"), EXIT_AUTH)
    assert "not logged in" in line
    assert "login" in line


def test_revoked_token_is_refused(server: LiveServer) -> None:
    login(server, "first", "expert@kgz.example")
    path = profiles_file(server)
    data = json.loads(path.read_text())
    data["profiles"]["copy"] = data["profiles"]["first"]
    path.write_text(json.dumps(data))
    assert peerlex(server, "parties", profile="copy").returncode == EXIT_OK
    out = peerlex(server, "logout", profile="first")
    assert out.returncode == EXIT_OK, out.stderr
    line = assert_one_line_error(peerlex(server, "parties", profile="copy"), EXIT_AUTH)
    assert "expired, revoked or unknown" in line


def test_token_expired_on_the_server_is_refused(server: LiveServer) -> None:
    login(server, "expiring", "expert@tjk.example")
    token = json.loads(profiles_file(server).read_text())["profiles"]["expiring"]["token"]
    with sqlite3.connect(server.data / "peerlex.db") as db:
        db.execute(
            "UPDATE api_tokens SET expires_at = '2000-01-01 00:00:00.000000' WHERE token_hash = ?",
            (hashlib.sha256(token.encode()).hexdigest(),),
        )
    db.close()
    assert_one_line_error(peerlex(server, "docs", "TJK", profile="expiring"), EXIT_AUTH)


def test_token_expired_by_its_date_is_refused_before_asking(server: LiveServer) -> None:
    login(server, "old", "expert@tjk.example")
    path = profiles_file(server)
    data = json.loads(path.read_text())
    data["profiles"]["old"]["expires_at"] = "2000-01-01T00:00:00+00:00"
    path.write_text(json.dumps(data))
    line = assert_one_line_error(peerlex(server, "parties", profile="old"), EXIT_AUTH)
    assert "expired" in line


def test_server_down(server: LiveServer) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [PEERLEX, "--profile", "down", "login", "--server", down, "--email", "a@b.example"],
        input="whatever password\n",
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = assert_one_line_error(done, EXIT_UNREACHABLE)
    assert down in line
    ping = subprocess.run(
        [PEERLEX, "ping", "--server", down], env=server.env, capture_output=True, text=True
    )
    assert_one_line_error(ping, EXIT_UNREACHABLE)


def blr_draft(server: LiveServer, tmp_path: Path) -> Path:
    """Log BLR's expert in (profile blr) and write LAW to a draft file."""
    login(server, "blr", "expert@blr.example")
    draft = tmp_path / "law.md"
    draft.write_text(LAW)
    return draft


def test_stale_base_shows_the_current_head(server: LiveServer, tmp_path: Path) -> None:
    draft = blr_draft(server, tmp_path)
    first = peerlex(
        server, "push", str(draft), "--party", "BLR", "--slug", "stale-demo", "-q", profile="blr"
    )
    assert first.returncode == EXIT_OK, first.stderr
    v1 = first.stdout.strip()
    draft.write_text(LAW.replace("exports", "exports and transit"))
    args = ["push", str(draft), "--party", "BLR", "--slug", "stale-demo"]
    second = peerlex(server, *args, "--base", v1, "-q", profile="blr")
    assert second.returncode == EXIT_OK, second.stderr
    v2 = second.stdout.strip()
    draft.write_text(LAW.replace("exports", "exports and brokering"))
    stale = assert_one_line_error(
        peerlex(server, *args, "--base", v1, profile="blr"), EXIT_CONFLICT
    )
    assert v2 in stale
    assert f"--base {v2}" in stale
    no_base = assert_one_line_error(peerlex(server, *args, profile="blr"), EXIT_CONFLICT)
    assert "exists already" in no_base
    assert f"--base {v2}" in no_base
    log = peerlex(server, "log", "BLR", "stale-demo", "-q", profile="blr")
    assert log.stdout.split() == [v2, v1]  # nothing was overwritten


def test_a_document_one_may_not_see_is_not_found(server: LiveServer, tmp_path: Path) -> None:
    login(server, "blr", "expert@blr.example")
    login(server, "kgz", "expert@kgz.example")
    draft = tmp_path / "secret.md"
    draft.write_text(LAW)
    pushed = peerlex(
        server, "push", str(draft), "--party", "BLR", "--slug", "unshared-draft", profile="blr"
    )
    assert pushed.returncode == EXIT_OK, pushed.stderr
    for command in (["show"], ["log"], ["diff"]):
        done = peerlex(server, *command, "BLR", "unshared-draft", profile="kgz")
        line = assert_one_line_error(done, EXIT_NOT_FOUND)
        assert "not found" in line
    missing = peerlex(server, "show", "BLR", "no-such-law", profile="blr")
    assert_one_line_error(missing, EXIT_NOT_FOUND)


def test_invalid_input_and_usage(server: LiveServer, tmp_path: Path) -> None:
    draft = blr_draft(server, tmp_path)
    bad_base = peerlex(
        server, "push", str(draft), "--party", "BLR", "--slug", "x", "--base", "abc", profile="blr"
    )
    line = assert_one_line_error(bad_base, EXIT_INVALID)
    assert "base" in line
    not_text = tmp_path / "binary.md"
    not_text.write_bytes(b"\xff\xfe\x00")
    assert_one_line_error(
        peerlex(server, "push", str(not_text), "--party", "BLR", "--slug", "x", profile="blr"),
        EXIT_INVALID,
    )
    usage = peerlex(server, "push", str(draft), profile="blr")
    assert usage.returncode == EXIT_USAGE
    assert "Traceback" not in usage.stderr


def test_listings_have_json_for_scripts(server: LiveServer) -> None:
    login(server, "goe", "observer@goe.example")
    for args in (
        ["parties"],
        ["reviews"],
        ["docs", "TJK"],
        ["log", "TJK", "biosecurity-regulation"],
        ["shares", "dushanbe-2017"],
        ["comments", "dushanbe-2017"],
        ["attachments", "BLR", "export-law"],
    ):
        done = peerlex(server, *args, "--json", profile="goe")
        assert done.returncode == EXIT_OK, (args, done.stderr)
        assert isinstance(json.loads(done.stdout), list), args


def test_comments_are_threaded_with_anchor_status_in_words(server: LiveServer) -> None:
    login(server, "goe", "observer@goe.example")
    done = peerlex(server, "comments", "dushanbe-2017", "--party", "BLR", profile="goe")
    assert done.returncode == EXIT_OK, done.stderr
    lines = done.stdout.splitlines()
    root = next(i for i, line in enumerate(lines) if line.startswith("#1 "))
    assert "quote in place" in lines[root]
    reply = next(i for i, line in enumerate(lines) if "#2 " in line)
    assert reply > root
    assert lines[reply].startswith("    #2 ")


def test_diff_text_without_colour_uses_markers(server: LiveServer) -> None:
    login(server, "kgz", "expert@kgz.example")
    done = peerlex(server, "diff", "BLR", "export-law", profile="kgz")
    assert done.returncode == EXIT_OK, done.stderr
    assert "\x1b[" not in done.stdout  # NO_COLOR, and not a terminal
    assert "{+" in done.stdout
    coloured = peerlex(server, "diff", "BLR", "export-law", "--color", "always", profile="kgz")
    assert "\x1b[32m" in coloured.stdout
    unified = peerlex(server, "diff", "BLR", "export-law", "--format", "unified", profile="kgz")
    assert unified.stdout.startswith("diff --git") or "@@" in unified.stdout


def test_attach_and_fetch_round_trip(server: LiveServer, tmp_path: Path) -> None:
    login(server, "blr", "expert@blr.example")
    source = tmp_path / "annex.csv"
    source.write_bytes(b"code;item\n1A001;components\n" * 20_000)
    attached = peerlex(
        server, "attach", str(source), "--party", "BLR", "--slug", "export-law", "--json",
        profile="blr",
    )  # fmt: skip
    assert attached.returncode == EXIT_OK, attached.stderr
    record = json.loads(attached.stdout)
    assert record["media_type"] == "text/csv"
    assert record["size"] == source.stat().st_size
    out = tmp_path / "back.csv"
    fetched = peerlex(
        server, "fetch-attachment", "BLR", "export-law", record["id"], "-o", str(out),
        profile="blr",
    )  # fmt: skip
    assert fetched.returncode == EXIT_OK, fetched.stderr
    assert out.read_bytes() == source.read_bytes()


def test_lockout_after_failed_sign_ins_is_one_line(server: LiveServer) -> None:
    args = ["login", "--email", "nobody@cli-test.example"]
    for _ in range(5):
        done = peerlex(server, *args, stdin="not the password!\n", profile="locked")
        assert_one_line_error(done, EXIT_AUTH)
    locked = peerlex(server, *args, stdin="not the password!\n", profile="locked")
    line = assert_one_line_error(locked, EXIT_AUTH)
    assert "too many failed sign-ins" in line
    assert "try again in" in line
