"""Writes signed on this machine: a version's commit and a head's approval, in two steps.

The server builds the bytes; they are checked here against what was asked (clients/signing.py),
signed with `ssh-keygen -Y sign`, and sent back. A State that holds its own keys writes only
this way; any State's delegate may, with a registered key of their own.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from clients.cli.app import F
from clients.cli.exits import EXIT_INVALID, Failure
from clients.cli.transfer import TransferProgress
from clients.client import Client
from clients.errors import Conflict
from clients.models import Approval, Attachment, DocumentSummary, SigningRequest
from clients.signing import (
    SigningError,
    check_approval_statement,
    check_commit_payload,
    check_commit_tree,
    document_text,
    ssh_sign,
)
from keys.age import encrypt
from keys.age.errors import AgeError
from keys.age.x25519 import parse_recipient
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

    def holds_what_was_sent(written: dict[str, str]) -> None:
        # The metadata merges with what the document had; the fields given must be as given.
        metadata = json.loads(written.get(f"documents/{slug}.json", "{}"))
        for field in ("title", "kind", "language"):
            if data.get(field) is not None and metadata.get(field) != data[field]:
                raise SigningError(f"the commit to sign records another {field}")

    text = {f"documents/{slug}.md": document_text(data["content"])}
    first = data.get("base") is None
    return sign_commit(
        client,
        key,
        email,
        (party, slug),
        request,
        data["message"],
        text,
        holds_what_was_sent,
        first=first,
    )


def attach_signed(
    client: Client,
    key: Path,
    email: str,
    party: str,
    slug: str,
    file: Path,
    *,
    name: str,
    media_type: str,
    base: str | None,
) -> Attachment:
    """Encrypt file here to the document's recipients, send it, and sign the commit that
    records it: the server never sees the plaintext."""
    try:
        recipients = [parse_recipient(text) for text in client.document_recipients(party, slug)]
    except AgeError as exc:
        raise Failure(
            f"the server named a recipient that is not one: {exc}", EXIT_INVALID
        ) from None
    if not recipients:
        raise Failure(f"{party}/{slug} has no age recipients to encrypt to", EXIT_INVALID)
    with tempfile.TemporaryDirectory() as tmp:
        encrypted = Path(tmp) / "attachment.age"
        with file.open("rb") as src, encrypted.open("wb") as dst:
            encrypt(src, dst, recipients)
        digest = hashlib.sha256(encrypted.read_bytes()).hexdigest()
        with TransferProgress(f"uploading {file.name}") as progress:
            request = client.upload_encrypted(
                party,
                slug,
                encrypted,
                name=name,
                media_type=media_type,
                base=base,
                progress=progress,
            )
    # The server names the file as it stores it; the commit says only that it is attached.
    attached = re.compile(rf"Attach [^\n]{{1,300}} to {re.escape(slug)}")
    size = file.stat().st_size

    def points_at_the_upload(written: dict[str, str]) -> None:
        pointers = list(written.values())
        record = json.loads(pointers[0]) if len(pointers) == 1 else {}
        if record.get("sha256") != digest or record.get("size") != size:
            raise SigningError("the commit to sign records another file than the one sent")

    sign_commit(client, key, email, (party, slug), request, attached, {}, points_at_the_upload)
    for record in client.attachments(party, slug):
        if record["sha256"] == digest:
            return record
    raise Failure("the server does not list the attachment it recorded", EXIT_INVALID)


def sign_commit(
    client: Client,
    key: Path,
    email: str,
    document: tuple[str, str],
    request: SigningRequest,
    message: str | re.Pattern[str],
    expected: dict[str, bytes],
    check_written: Callable[[dict[str, str]], None],
    *,
    first: bool = False,
) -> DocumentSummary:
    """Check that a commit the server built is what was asked (its headers and message, every
    file of its tree, the files it writes), sign it here, and send the signature back."""
    party, slug = document
    payload = request["payload"]
    try:
        check_commit_payload(payload, party=party, email=email, message=message, first=first)
        written = check_commit_tree(
            payload, request.get("tree"), request.get("files"), slug=slug, expected=expected
        )
        try:
            check_written(written)
        except (ValueError, AttributeError) as exc:
            raise SigningError(f"the commit to sign writes unreadable files: {exc}") from None
        signature = ssh_sign(key, payload.encode(), GIT_NAMESPACE)
    except SigningError as exc:
        raise Failure(f"not signed: {exc}", EXIT_INVALID) from None
    return client.sign_version(party, slug, request["id"], signature)


def approve_signed(
    client: Client,
    key: Path,
    email: str,
    review: str,
    party: str,
    slug: str,
    version: str,
    *,
    code: str | None = None,
) -> Approval:
    """Ask for the approval statement, check it, sign it with key, and have it recorded; code
    is a fresh second factor's, for a server that asks for one."""
    request = client.request_approval(review, party, slug, version, code=code)
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
