"""`peerlex keys` against a live server: add, list and revoke your own public keys."""

from __future__ import annotations

import json
from pathlib import Path

from clients.cli.exits import EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_FOUND, EXIT_OK
from tests.clients.test_cli import assert_one_line_error, login, peerlex
from tests.support.live_server import LiveServer
from tests.support.ssh_user_keys import fingerprint_of, new_key, public_line


def test_add_list_and_revoke(server: LiveServer, tmp_path: Path) -> None:
    login(server, "keys-expert", "expert@blr.example")
    # Its fingerprint must travel whole in a URL path, `/` and `+` included.
    private = new_key(tmp_path, "delegate", comment="Delegate's laptop")
    while "/" not in fingerprint_of(private):
        private.unlink()
        private.with_suffix(".pub").unlink()
        private = new_key(tmp_path, "delegate", comment="Delegate's laptop")
    fingerprint = fingerprint_of(private)
    pub = str(private.with_suffix(".pub"))
    added = peerlex(server, "keys", "add", pub, profile="keys-expert")
    assert added.returncode == EXIT_OK, added.stderr
    assert f"registered {fingerprint} (ssh-ed25519) for BLR as expert" in added.stdout
    again = peerlex(server, "keys", "add", pub, profile="keys-expert")
    assert_one_line_error(again, EXIT_CONFLICT)
    listed = peerlex(server, "keys", "list", "--json", profile="keys-expert")
    (key,) = json.loads(listed.stdout)
    assert key["public_key"] == public_line(private).rsplit(" ", 2)[0]
    assert key["comment"] == "Delegate's laptop"
    assert key["valid_before"] is None
    shown = peerlex(server, "keys", "list", profile="keys-expert").stdout
    assert fingerprint in shown
    assert "valid" in shown
    login(server, "keys-peer", "expert@kgz.example")
    history = peerlex(server, "keys", "list", "BLR", "--json", profile="keys-peer")
    assert [(k["owner"], k["role"]) for k in json.loads(history.stdout)] == [
        ("expert@blr.example", "expert")
    ]
    refused = peerlex(server, "keys", "revoke", fingerprint, profile="keys-peer")
    assert_one_line_error(refused, EXIT_NOT_FOUND)
    revoked = peerlex(server, "keys", "revoke", fingerprint, profile="keys-expert")
    assert revoked.returncode == EXIT_OK, revoked.stderr
    assert f"revoked {fingerprint} at " in revoked.stdout
    twice = peerlex(server, "keys", "revoke", fingerprint, profile="keys-expert")
    assert_one_line_error(twice, EXIT_CONFLICT)
    shown = peerlex(server, "keys", "list", "BLR", profile="keys-peer").stdout
    assert "revoked " in shown
    saved = tmp_path / "allowed_signers"
    signers = peerlex(server, "allowed-signers", "-o", str(saved), profile="keys-peer")
    assert signers.returncode == EXIT_OK, signers.stderr
    (published,) = [
        x for x in saved.read_text().splitlines() if public_line(private).split()[1] in x
    ]
    assert ",valid-before=" in published


def test_refusals_are_one_line(server: LiveServer, tmp_path: Path) -> None:
    login(server, "keys-head", "head@kgz.example")
    private = new_key(tmp_path, "head")
    refused = peerlex(server, "keys", "add", str(private), profile="keys-head")
    assert "private key" in assert_one_line_error(refused, EXIT_INVALID)
    hostile = tmp_path / "hostile.pub"
    hostile.write_text(public_line(private).split(" comment")[0] + " \x1b[2Jcard\n")
    line = assert_one_line_error(
        peerlex(server, "keys", "add", str(hostile), profile="keys-head"), EXIT_INVALID
    )
    assert "\x1b" not in line
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-ed25519 AAAA not-a-key\n")
    line = assert_one_line_error(
        peerlex(server, "keys", "add", str(bad), profile="keys-head"), EXIT_INVALID
    )
    assert "public_key" in line
    two = tmp_path / "two.pub"
    two.write_text(public_line(private) + "\n" + public_line(private) + "\n")
    assert_one_line_error(
        peerlex(server, "keys", "add", str(two), profile="keys-head"), EXIT_INVALID
    )
    missing = peerlex(server, "keys", "list", "ZZZ", profile="keys-head")
    assert_one_line_error(missing, EXIT_NOT_FOUND)
