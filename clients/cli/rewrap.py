"""Re-wrapping a State's attachments on its delegate's machine, when the server cannot.

For a State that holds its own keys, a share makes new readers of its attachments and a final
bundle needs a copy for the organisers' offline recipients; only the State's own identity opens
the header to make either. Here the client fetches each stored age file, checks it is the one
the signed pointer names, makes the header anew for the recipients the server names (the
payload byte for byte as it was), and sends it: a re-wrap is recorded by a commit signed here,
an offline copy is kept for the bundle.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from clients.cli.exits import EXIT_INVALID, Failure
from clients.cli.signed import sign_commit
from clients.client import Client
from clients.models import Attachment
from clients.signing import SigningError
from keys.age import rewrap_header
from keys.age.errors import AgeError
from keys.age.x25519 import parse_recipient


def rewrap_attachments(
    client: Client,
    key: Path,
    email: str,
    identities: Sequence[X25519PrivateKey],
    party: str,
    slug: str,
) -> list[str]:
    """Re-wrap every attachment of the document that waits for it; say what was done."""
    done = []
    for record in client.attachments(party, slug):
        copies = [c for c in client.offline_copies(party, slug, record["id"]) if not c["stored"]]
        if not record.get("waiting_for") and not copies:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            stored = _stored(client, party, slug, record, Path(tmp))
            if record.get("waiting_for"):
                recipients = client.document_recipients(party, slug)
                rewrapped = _rewrap(stored, identities, recipients, Path(tmp) / "rewrapped.age")
                _send_rewrap(client, key, email, party, slug, record, rewrapped)
                done.append(f"{record['id']} re-wrapped for {', '.join(record['waiting_for'])}")
                stored = rewrapped
            # Named by position: nothing the server sent becomes part of a path here.
            for number, copy in enumerate(copies):
                path = Path(tmp) / f"offline-{number}.age"
                _rewrap(stored, identities, copy["recipients"], path)
                client.store_offline_copy(party, slug, record["id"], copy["review"], path)
                done.append(f"{record['id']} copied for the bundle of {copy['review']}")
    return done


def _stored(client: Client, party: str, slug: str, record: Attachment, directory: Path) -> Path:
    """The stored age file, checked against the sha256 its signed pointer names."""
    path = directory / "stored.age"
    client.download_sealed(party, slug, record["id"], path)
    if hashlib.sha256(path.read_bytes()).hexdigest() != record["sha256"]:
        raise Failure("the server sent another file than the attachment's pointer names")
    return path


def _rewrap(
    source: Path, identities: Sequence[X25519PrivateKey], recipients: list[str], dest: Path
) -> Path:
    try:
        keys = [parse_recipient(text) for text in recipients]
        with source.open("rb") as src, dest.open("wb") as dst:
            rewrap_header(src, dst, identities, keys)
    except AgeError as exc:
        raise Failure(f"cannot re-wrap the attachment: {exc}", EXIT_INVALID) from None
    return dest


def _send_rewrap(
    client: Client,
    key: Path,
    email: str,
    party: str,
    slug: str,
    record: Attachment,
    rewrapped: Path,
) -> None:
    digest = hashlib.sha256(rewrapped.read_bytes()).hexdigest()
    request = client.rewrap_encrypted(party, slug, record["id"], rewrapped)

    def points_at_the_rewrap(written: dict[str, str]) -> None:
        pointers = list(written.values())
        pointer = json.loads(pointers[0]) if len(pointers) == 1 else {}
        if pointer.get("sha256") != digest or pointer.get("id") != record["id"]:
            raise SigningError("the commit to sign records another file than the one sent")

    message = re.compile(
        rf"Share attachment {re.escape(record['id'])} of {re.escape(slug)} with [A-Z, ]+"
    )
    sign_commit(client, key, email, (party, slug), request, message, {}, points_at_the_rewrap)
