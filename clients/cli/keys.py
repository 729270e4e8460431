"""`peerlex keys`: register, list and revoke your own SSH public keys; read a party's keys."""

from __future__ import annotations

from pathlib import Path

import click

from clients.cli.app import State, main, pass_state
from clients.cli.exits import EXIT_INVALID, Failure
from clients.cli.output import Reply, json_reply, say, table
from clients.models import UserKey


@main.group()
def keys() -> None:
    """Your SSH public keys: each is published in allowed_signers for your party."""


def _public_key_line(path: Path) -> str:
    """The one public key line of a .pub file; never a private key, which stays where it is."""
    text = path.read_text(encoding="utf-8")
    if "PRIVATE KEY" in text:
        raise Failure(f"{path} is a private key; give its public half ({path}.pub)", EXIT_INVALID)
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise Failure(f"{path} must hold exactly one public key line", EXIT_INVALID)
    return lines[0].strip()


def _until(key: UserKey) -> str:
    return f"revoked {key['valid_before']}" if key["valid_before"] else "valid"


@keys.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--party", help="The party the key signs for (default: your first).")
@json_reply
@pass_state
def add(state: State, path: Path, party: str | None) -> Reply:
    """Register the public key in PATH (an OpenSSH .pub file) as yours."""
    key = state.client().add_key(_public_key_line(path), party)

    def show() -> None:
        say(f"registered {key['fingerprint']} ({key['type']}) for {key['party']} as {key['role']}")
        say(f"valid from {key['valid_after']}; published in allowed_signers")

    return Reply(key, show)


@keys.command("list")
@click.argument("party", required=False)
@json_reply
@pass_state
def list_keys(state: State, party: str | None) -> Reply:
    """Your keys; or, given PARTY, that party's public key history (who, role, when)."""
    client = state.client()
    found = client.party_keys(party) if party else client.keys()

    def show() -> None:
        if party:
            rows = [
                (k["fingerprint"], k["type"], k.get("owner", ""), k["role"], k["valid_after"])
                + (_until(k),)
                for k in found
            ]
        else:
            rows = [
                (k["fingerprint"], k["type"], f"{k['party']}/{k['role']}", k["valid_after"])
                + (_until(k), k["comment"])
                for k in found
            ]
        table(rows)

    return Reply(found, show)


@keys.command("revoke")
@click.argument("fingerprint")
@json_reply
@pass_state
def revoke(state: State, fingerprint: str) -> Reply:
    """Revoke one of your keys (SHA256:… as `peerlex keys list` shows it)."""
    key = state.client().revoke_key(fingerprint)

    def show() -> None:
        say(f"revoked {key['fingerprint']} at {key['valid_before']}")
        say("it stays published: what it signed before stays verifiable")

    return Reply(key, show)
