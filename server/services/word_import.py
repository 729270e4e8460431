"""Import a Word draft as a version: bounded, converted to the stored text, and the .docx itself
kept, encrypted, as an attachment recorded by the very commit that makes the version.

Nothing is written for a refused draft: the body is bounded and converted before anything is
stored, and the encrypted original is removed again if the commit does not happen.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from repo_store.attachments import attachment_path, new_attachment_record, safe_file_name
from repo_store.commits import Identity
from repo_store.errors import DocumentExists, StaleVersion, UnknownVersion
from repo_store.word.reader import WordError, WordText, read_docx
from server.models import User
from server.permissions import Access, document_access
from server.services import audit
from server.services.attachments import blob_store, entitled_parties
from server.services.context import services
from server.services.documents import NOT_FOUND, SavedDocument, saved, writable
from server.services.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    TooLarge,
    Unsupported,
)
from server.services.parties import find_party
from server.services.recipients import encryption_recipients

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Read from the request in pieces of this size, so that a body over the limit is refused
# after at most this much more than the limit.
_CHUNK = 1024 * 1024


def max_docx_bytes() -> int:
    return services().config.max_docx_bytes


def read_bounded(src: BinaryIO, max_bytes: int) -> bytes:
    """The whole body, or TooLarge as soon as it passes max_bytes (nothing more is read)."""
    buffer = io.BytesIO()
    while chunk := src.read(min(_CHUNK, max_bytes + 1 - buffer.tell())):
        buffer.write(chunk)
        if buffer.tell() > max_bytes:
            raise too_large(max_bytes)
    return buffer.getvalue()


def too_large(max_bytes: int) -> TooLarge:
    return TooLarge(
        f"the Word document is larger than {max_bytes:,} bytes, the most a draft may be",
        "docx-too-large",
        limit=max_bytes,
    )


def refusal(error: WordError) -> DomainError:
    """A reader's refusal as the domain error of its status, keeping its problem type."""
    # The counts a refusal names (tracked changes pending) travel as members of the problem.
    extra: dict[str, Any] = {
        name: value
        for name in ("insertions", "deletions", "formatting")
        if isinstance(value := getattr(error, name, None), int)
    }
    kinds: dict[int, type[DomainError]] = {413: TooLarge, 415: Unsupported}
    return kinds.get(getattr(error, "status", 422), Invalid)(str(error), error.kind, **extra)


def convert(data: bytes) -> WordText:
    """The draft's stored text, title and language, or the reader's refusal."""
    try:
        return read_docx(data)
    except WordError as exc:
        raise refusal(exc) from exc


def import_docx(
    user: User,
    code: str,
    slug: str,
    src: BinaryIO,
    query: dict[str, Any],
) -> SavedDocument:
    """Save a .docx as a version of a document of the user's State (no base: a new document),
    keeping the .docx as an encrypted attachment of that version."""
    party = find_party(code)
    if Access.WRITE not in document_access(user, code):
        raise NotFound(NOT_FOUND)
    if party.holds_own_keys:
        # The server may neither sign this party's commits nor encrypt for its delegates.
        raise Conflict(
            f"{code} holds its own keys: the server cannot sign a version made from a Word "
            "document for it. Save the draft as text (.md or .txt) and push that with "
            "`peerlex push FILE --key KEY`; attach the .docx with `peerlex attach --key KEY`",
            "signature-required",
        )
    store = services().store
    base = query.get("base")
    # A stale base, or none for a document that exists, is refused before the body is read or
    # converted: nothing to undo. The commit checks it again under the document's lock.
    current = store.current_version(code, slug)
    if base is None and current is not None:
        raise DocumentExists(current)
    if base is not None and current not in (None, base) and store.in_history(code, slug, base):
        raise StaleVersion(current)
    data = read_bounded(src, services().config.max_docx_bytes)
    word = convert(data)
    fields = {
        "content": word.text,
        "message": query["message"],
        "base": base,
        # An update keeps the document's metadata unless told otherwise; a new document takes
        # the .docx's own title and language.
        "title": query.get("title") or (None if base else word.title),
        "kind": query.get("kind"),
        "language": query.get("language") or (None if base else word.language),
    }
    party, metadata = writable(user, code, slug, fields)
    try:
        files = store.document_files(code, slug, word.text, metadata, base=base)
    except UnknownVersion as exc:
        raise Invalid(str(exc), "unknown-base") from exc
    changed = files is not None
    blobs = blob_store()
    codes = entitled_parties(code, slug)
    keys = [key for party_code in codes for key in encryption_recipients(party_code)]
    blob = blobs.put(io.BytesIO(data), keys, max_bytes=len(data))
    record = new_attachment_record(
        name=safe_file_name(query.get("name") or f"{slug}.docx"),
        blob=blob,
        recipients=codes,
        uploaded_by=user.email,
        media_type=DOCX_MEDIA_TYPE,
    )
    written = dict(files or {})
    written[attachment_path(slug, record.id)] = record.to_json()
    try:
        sha = store.commit_files(
            code,
            slug,
            written,
            author=Identity(user.name or user.email, user.email),
            committer_name=party.name,
            message=query["message"],
            precondition=store.still_based_on(code, slug, base),
        )
    except BaseException:
        # No pointer names the blob: it goes, so that a refused write leaves nothing behind.
        blobs.remove(blob.sha256)
        raise
    if changed:
        store.remember_version(code, slug, sha)
    audit.record(
        user, "attachment.upload", f"{code}/{slug}/{record.id}", commit=sha, size=record.size
    )
    version = sha if changed else (base or sha)
    return saved(user, code, slug, version, base is None, source="docx", attachment=record.id)
