"""`peerlex invite` and `peerlex invitations` against a live server: the link printed on a
line of its own opens the invitation page; listing and revoking; refusals are one line."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from clients.cli.exits import EXIT_AUTH, EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_FOUND, EXIT_OK
from tests.clients.test_cli import assert_one_line_error, login, peerlex
from tests.support.live_server import LiveServer

NEW = "delegate2@kgz.example"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - a test server
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_invite_list_and_revoke(server: LiveServer) -> None:
    login(server, "inv-organiser", "organiser@unrcpd.example")
    made = peerlex(
        server, "invite", NEW, "--party", "KGZ", "--role", "expert", profile="inv-organiser"
    )
    assert made.returncode == EXIT_OK, made.stderr
    link = re.search(rf"^({re.escape(server.url)}/invitations/[\w-]{{43}})$", made.stdout, re.M)
    assert link is not None, made.stdout
    assert _status(link.group(1)) == 200
    assert f"{NEW} to KGZ as expert" in made.stdout
    listed = peerlex(server, "invitations", "--json", profile="inv-organiser")
    assert listed.returncode == EXIT_OK, listed.stderr
    (pending,) = json.loads(listed.stdout)
    assert (pending["email"], pending["party"], pending["role"]) == (NEW, "KGZ", "expert")
    assert "url" not in pending
    shown = peerlex(server, "invitations", profile="inv-organiser").stdout
    assert NEW in shown
    assert "organiser@unrcpd.example" in shown
    login(server, "inv-admin", "admin@peerlex.example")
    assert NEW in peerlex(server, "invitations", "list", profile="inv-admin").stdout
    login(server, "inv-other", "organiser@osce.example")
    refused = peerlex(server, "invitations", "revoke", str(pending["id"]), profile="inv-other")
    assert_one_line_error(refused, EXIT_NOT_FOUND)
    revoked = peerlex(server, "invitations", "revoke", str(pending["id"]), profile="inv-organiser")
    assert revoked.returncode == EXIT_OK, revoked.stderr
    assert f"revoked invitation {pending['id']} for {NEW}" in revoked.stdout
    twice = peerlex(server, "invitations", "revoke", str(pending["id"]), profile="inv-organiser")
    assert_one_line_error(twice, EXIT_CONFLICT)
    assert _status(link.group(1)) == 404
    assert "no pending invitations" in peerlex(server, "invitations", profile="inv-admin").stdout


def test_refusals_are_one_line(server: LiveServer) -> None:
    login(server, "inv-org2", "organiser@unrcpd.example")
    beyond = peerlex(
        server,
        "invite",
        "x@osce.example",
        "--party",
        "OSCE",
        "--role",
        "organiser",
        profile="inv-org2",
    )
    assert_one_line_error(beyond, EXIT_AUTH)
    taken = peerlex(
        server,
        "invite",
        "expert@kgz.example",
        "--party",
        "KGZ",
        "--role",
        "expert",
        profile="inv-org2",
    )
    assert_one_line_error(taken, EXIT_CONFLICT)
    bad = peerlex(
        server, "invite", "not-an-email", "--party", "KGZ", "--role", "expert", profile="inv-org2"
    )
    assert_one_line_error(bad, EXIT_INVALID)
    login(server, "inv-expert", "expert@blr.example")
    expert = peerlex(
        server,
        "invite",
        "y@blr.example",
        "--party",
        "BLR",
        "--role",
        "expert",
        profile="inv-expert",
    )
    assert_one_line_error(expert, EXIT_AUTH)
    missing = peerlex(server, "invitations", "revoke", "999999", profile="inv-expert")
    assert_one_line_error(missing, EXIT_NOT_FOUND)
