"""Attachments: upload encrypted for the entitled parties, list, download decrypted, re-share.

Who can decrypt is the rule of DESIGN.md §5 made cryptographic: a blob is encrypted to the
owning State and to every party taking part in a review the document is shared into. A
download is decrypted with the reader's own party key, so a party that is not a recipient cannot
read an attachment even through a bug in the access checks; a State that holds its own keys gets
the sealed age file, which only its delegates' identities open (docs/attachments.md).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import select

from repo_store.attachments import (
    AttachmentRecord,
    get_attachment,
    list_attachments,
    safe_file_name,
    update_recipients,
    upload_attachment,
)
from repo_store.blobs import BlobStore
from repo_store.commits import Identity
from server.db import db_session
from server.models import Party, ReviewParticipant, Share, User
from server.permissions import Access, document_access
from server.services import audit
from server.services.context import services
from server.services.documents import NOT_FOUND, visibility
from server.services.errors import Conflict, Corrupt, NotFound
from server.services.originals import readable_records, recipients_by_record
from server.services.parties import find_party
from server.services.recipients import encryption_recipients

NO_ATTACHMENT = "no such attachment, or you may not see it"
# Says that a download is the stored age file, for the reader to open (docs/attachments.md).
ENCRYPTION_HEADER = "X-Peerlex-Encryption"
# A sealed download is sent in pieces of this size, as the blob store reads them.
SEALED_CHUNK = 256 * 1024


def blob_store() -> BlobStore:
    return BlobStore(services().config.blobs_dir)


def entitled_parties(code: str, slug: str) -> list[str]:
    """The owning State and every party in a review this document is shared into."""
    query = (
        select(Party.code)
        .join(ReviewParticipant, ReviewParticipant.party_id == Party.id)
        .join(Share, Share.review_id == ReviewParticipant.review_id)
        .where(Share.party.has(code=code), Share.slug == slug)
    )
    return sorted({code, *db_session().scalars(query)})


def _recipient_keys(codes: list[str]) -> dict[str, list[X25519PublicKey]]:
    """Each party's keys to encrypt to: its server key, or its own registered recipients."""
    return {c: encryption_recipients(c) for c in codes}


def _every_key(codes: list[str]) -> list[X25519PublicKey]:
    return [key for keys in _recipient_keys(codes).values() for key in keys]


def attachable(user: User, code: str, slug: str, base: str | None) -> Party:
    """The party whose document the user may attach to now: one of its writers, the document
    existing, and at base when a base is given."""
    party = find_party(code)
    if Access.WRITE not in document_access(user, code):
        raise NotFound(NOT_FOUND)
    current = services().store.current_version(code, slug)
    if current is None:
        raise NotFound(NOT_FOUND)
    if base is not None and base != current:
        raise Conflict(
            "the document changed since the version you attached to",
            "stale-version",
            head=current,
        )
    return party


def upload(
    user: User,
    code: str,
    slug: str,
    src: BinaryIO,
    *,
    name: str,
    media_type: str | None,
    base: str | None,
) -> AttachmentRecord:
    """Encrypt and attach an uploaded file to a document of the user's State."""
    party = attachable(user, code, slug, base)
    store = services().store
    record, commit = upload_attachment(
        store,
        blob_store(),
        code,
        slug,
        src,
        name=name,
        media_type=media_type,
        recipients=_recipient_keys(entitled_parties(code, slug)),
        max_bytes=services().config.max_attachment_bytes,
        author=Identity(user.name or user.email, user.email),
        committer_name=party.name,
        message=f"Attach {safe_file_name(name)} to {slug}",
    )
    audit.record(
        user, "attachment.upload", f"{code}/{slug}/{record.id}", commit=commit, size=record.size
    )
    db_session().commit()
    return record


def recipients_for(code: str, slug: str, records: list[AttachmentRecord]) -> dict[str, list[str]]:
    """Attachment id → the parties entitled to read it (an original: its version's readers)."""
    return recipients_by_record(code, slug, records, entitled_parties(code, slug))


def _require_readable(user: User, code: str, slug: str) -> None:
    """Attachments belong to the document: whoever may read a version of it may read them."""
    seen = visibility(user, code, slug)
    if not seen.everything and not seen.versions:
        raise NotFound(NOT_FOUND)


def list_for(user: User, code: str, slug: str) -> list[AttachmentRecord]:
    """Attachments the user may read, as they stand now (recipients follow shares)."""
    _require_readable(user, code, slug)
    return readable_records(user, code, slug, list_attachments(services().store, code, slug))


def _reader_party(user: User, record: AttachmentRecord) -> str:
    for code in sorted(user.party_codes()):
        if code in record.recipients:
            return code
    raise NotFound(NO_ATTACHMENT)


@dataclass(frozen=True)
class Download:
    """What a download answers: the attachment, its bytes, how many, and whether they are the
    stored age file itself (sealed) rather than the plaintext."""

    record: AttachmentRecord
    chunks: Iterator[bytes]
    size: int
    sealed: bool


def open_download(user: User, code: str, slug: str, attachment_id: str) -> Download:
    """Check access and the blob's integrity, then stream its bytes.

    A reader whose party's keys the server holds gets them decrypted with that key. A reader
    whose State holds its own keys gets the stored age file as it is, to open on its own
    machine: the server has no key that could open it.
    """
    _require_readable(user, code, slug)
    record = get_attachment(services().store, code, slug, attachment_id)
    if not readable_records(user, code, slug, [record]):
        raise NotFound(NO_ATTACHMENT)
    reader = _reader_party(user, record)
    blobs = blob_store()
    # The pointer (signed, in git) names the ciphertext's hash: check it before a byte goes out,
    # so a damaged or swapped blob is an error response, not a truncated download.
    if not blobs.exists(record.sha256) or not blobs.verify_hash(record.sha256):
        raise Corrupt(
            "the stored attachment is damaged; an operator has been told", "attachment-damaged"
        )
    if find_party(reader).holds_own_keys:
        sealed_size = blobs.path(record.sha256).stat().st_size
        return Download(record, _stream_sealed(blobs, record.sha256), sealed_size, sealed=True)
    identities = [k.encryption_key for k in services().keys.all_private(reader)]
    return Download(
        record, _stream_decrypted(blobs, record.sha256, identities), record.size, sealed=False
    )


def _stream_sealed(blobs: BlobStore, sha256: str) -> Iterator[bytes]:
    with blobs.open(sha256) as stream:
        while chunk := stream.read(SEALED_CHUNK):
            yield chunk


class _QueueWriter:
    """A file-like sink that hands each authenticated batch of plaintext to the response."""

    def __init__(
        self, out: queue.Queue[bytes | BaseException | None], stop: threading.Event
    ) -> None:
        self._out, self._stop = out, stop

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        while not self._stop.is_set():
            try:
                self._out.put(chunk, timeout=0.5)
                return len(chunk)
            except queue.Full:
                continue
        raise ConnectionAbortedError("the client went away")

    def flush(self) -> None:
        return None


def _stream_decrypted(blobs: BlobStore, sha256: str, identities: list[Any]) -> Iterator[bytes]:
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=4)
    stop = threading.Event()

    def work() -> None:
        try:
            blobs.decrypt_to(sha256, _QueueWriter(chunks, stop), identities)  # type: ignore[arg-type]
            chunks.put(None)
        except BaseException as exc:  # handed to the response, which aborts the transfer
            if not stop.is_set():
                chunks.put(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback and the exact name as UTF-8 (RFC 8187)."""
    fallback = (
        "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
        or "attachment"
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def reshare(code: str, slug: str, user: User) -> int:
    """Re-wrap every attachment of a document for its entitled parties (header only).

    Called when the document is shared into a review; returns how many were re-wrapped. The
    server opens a header with the owner's key, so it re-wraps nothing of a State that holds
    its own keys: its delegates re-wrap those on their machines.
    """
    store, blobs = services().store, blob_store()
    records = list_attachments(store, code, slug)
    # The original of a version goes only to that version's readers (server/services/originals.py).
    wanted_by = recipients_for(code, slug, records)
    party = find_party(code)
    stale = [r for r in records if list(r.recipients) != wanted_by[r.id]]
    if not stale or party.holds_own_keys:
        return 0
    # Every key is looked up before the first write, so a party that cannot be encrypted to
    # refuses the share with nothing re-wrapped.
    keys_by = {r.id: _every_key(wanted_by[r.id]) for r in stale}
    owner_keys = [k.encryption_key for k in services().keys.all_private(code)]
    changed = 0
    for record in stale:
        wanted = wanted_by[record.id]
        blob = blobs.rewrap(record.sha256, owner_keys, keys_by[record.id])
        update_recipients(
            store,
            code,
            slug,
            record.id,
            record.rewrapped(blob, wanted),
            author=Identity(user.name or user.email, user.email),
            committer_name=party.name,
            message=f"Share attachment {record.id} of {slug} with {', '.join(wanted)}",
            expected_sha256=record.sha256,
        )
        audit.record(user, "attachment.reshare", f"{code}/{slug}/{record.id}", recipients=wanted)
        changed += 1
    return changed
