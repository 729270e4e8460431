"""Writes signed on this machine: a version's commit and a head's approval, in two steps.

The server builds the bytes; they are checked here against what was asked (clients/signing.py),
signed with `ssh-keygen -Y sign`, and sent back. A State that holds its own keys writes only
this way; any State's delegate may, with a registered key of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from clients.cli.app import F
from clients.cli.exits import EXIT_INVALID, Failure
from clients.client import Client
from clients.errors import Conflict
from clients.models import Approval, DocumentSummary
from clients.signing import (
    SigningError,
    check_approval_statement,
    check_commit_payload,
    ssh_sign,
)
from keys.protocol import APPROVAL_NAMESPACE, GIT_NAMESPACE

KEY_HELP = (
    "Sign on this machine with this SSH key: a private key file, or a .pub file whose private "
    "half ssh-agent holds (default: the key saved by `peerlex login --key`)."
)


def key_option() -> Callable[[F], F]:
    """--key: the SSH key to sign with on this machine."""

    def add(command: F) -> F:
        return click.option(
            "--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=KEY_HELP
        )(command)

    return add


def signature_required(exc: Conflict) -> bool:
    """Whether the server refused a write because the State signs on its delegates' machines."""
    return str(exc.problem.get("type", "")).endswith("/signature-required")


def needs_key(party: str) -> Failure:
    return Failure(
        f"{party} holds its own keys: sign on this machine with --key PATH (or save a key with "
        "`peerlex login --key PATH`)",
        EXIT_INVALID,
    )


def push_signed(
    client: Client, key: Path, email: str, party: str, slug: str, data: dict[str, Any]
) -> DocumentSummary:
    """Ask for the version's commit, check it, sign it with key, and have it written."""
    request = client.request_version(party, slug, data)
    try:
        check_commit_payload(
            request["payload"],
            party=party,
            email=email,
            message=data["message"],
            base=data.get("base"),
        )
        signature = ssh_sign(key, request["payload"].encode(), GIT_NAMESPACE)
    except SigningError as exc:
        raise Failure(f"not signed: {exc}", EXIT_INVALID) from None
    return client.sign_version(party, slug, request["id"], signature)


def approve_signed(
    client: Client, key: Path, email: str, review: str, party: str, slug: str, version: str
) -> Approval:
    """Ask for the approval statement, check it, sign it with key, and have it recorded."""
    request = client.request_approval(review, party, slug, version)
    try:
        check_approval_statement(
            request["payload"],
            # A review named by its number is known to the statement by its slug only.
            review=None if review.isdigit() else review,
            party=party,
            slug=slug,
            version=version,
            email=email,
        )
        signature = ssh_sign(key, request["payload"].encode(), APPROVAL_NAMESPACE)
    except SigningError as exc:
        raise Failure(f"not signed: {exc}", EXIT_INVALID) from None
    return client.sign_approval(review, request["id"], signature)
