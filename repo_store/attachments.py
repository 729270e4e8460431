"""Attachment pointer files committed at attachments/<slug>/<id>.json (docs/attachments.md)."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from repo_store.blobs import BLOB_SHA256, BlobStore, StoredBlob
from repo_store.commits import Identity
from repo_store.errors import DocumentNotFound, StoreError
from repo_store.names import PARTY_CODE, check_party, check_sha, check_slug
from repo_store.store import RepoStore, document_paths

ATTACHMENTS = "attachments"
ATTACHMENT_ID = re.compile(r"[0-9a-f]{16}")
DEFAULT_MEDIA_TYPE = "application/octet-stream"
DEFAULT_FILE_NAME = "attachment"
MAX_NAME_BYTES = 200
# An extension longer than this is part of the name, not something worth keeping whole.
_MAX_EXTENSION_BYTES = 32
# RFC 6838 section 4.2: type and subtype are restricted-names.
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MEDIA_TYPE = re.compile(f"{_RESTRICTED_NAME}/{_RESTRICTED_NAME}")
# Enough for any real address; the e-mail is checked properly where users are made.
_EMAIL = re.compile(r"[^\s@<>\x00-\x1f\x7f]{1,64}@[^\s@<>\x00-\x1f\x7f]{1,253}")
# Device names Windows reserves with or without an extension (superscript digits included).
_WINDOWS_RESERVED = re.compile(
    r"(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[1-9\u00b9\u00b2\u00b3]|LPT[1-9\u00b9\u00b2\u00b3])",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")
_FIELDS = frozenset(
    {"id", "name", "media_type", "size", "sha256", "recipients", "created_at", "uploaded_by"}
)


class InvalidAttachment(ValueError):
    """An attachment record, or a pointer file, breaks the format in docs/attachments.md."""


class AttachmentConflict(StoreError):
    """The pointer file is not what the writer expected to find at head."""

    def __init__(self, detail: str, current: str | None) -> None:
        super().__init__(detail)
        self.current = current


def safe_file_name(name: str) -> str:
    """Make a user's file name safe to store, show and unpack anywhere (docs/attachments.md)."""
    # Whitespace first, so that "a\tb" stays two words once control characters go.
    text = _WHITESPACE.sub(" ", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"})
    text = unicodedata.normalize("NFC", text)
    text = re.split(r"[/\\]", text)[-1]
    text = _WHITESPACE.sub(" ", text).strip(". ")
    if not text:
        return DEFAULT_FILE_NAME
    stem = text.split(".", 1)[0].rstrip(" ")
    if _WINDOWS_RESERVED.fullmatch(stem):
        text = "_" + text
    return _limit_bytes(text, MAX_NAME_BYTES)


def _limit_bytes(name: str, limit: int) -> str:
    """Shorten name to at most limit UTF-8 bytes, keeping a short extension whole."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension
    if not stem or len(suffix.encode()) > _MAX_EXTENSION_BYTES:
        stem, suffix = name, ""
    budget = limit - len(suffix.encode())
    # Cut at a character boundary: dropping a partial UTF-8 sequence drops the whole character.
    cut = stem.encode()[:budget].decode(errors="ignore")
    return unicodedata.normalize("NFC", cut.rstrip(". ") + suffix)


def parse_media_type(value: str | None) -> str:
    """Reduce a Content-Type value to a lower-case type/subtype; none means octet-stream."""
    if value is None:
        return DEFAULT_MEDIA_TYPE
    essence = value.split(";", 1)[0].strip().lower()
    if not essence:
        return DEFAULT_MEDIA_TYPE
    if not MEDIA_TYPE.fullmatch(essence):
        raise InvalidAttachment(f"invalid media type {value!r}")
    return essence


def _utc(moment: datetime) -> datetime:
    offset = moment.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise InvalidAttachment("created_at must be a UTC time")
    return moment.astimezone(UTC)


def _format_time(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AttachmentRecord:
    """What a pointer file says about one attachment; its body is the blob named sha256."""

    id: str
    name: str
    size: int
    sha256: str
    recipients: tuple[str, ...]
    created_at: datetime
    uploaded_by: str
    media_type: str = DEFAULT_MEDIA_TYPE

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not ATTACHMENT_ID.fullmatch(self.id):
            raise InvalidAttachment(f"invalid attachment id {self.id!r}")
        if not isinstance(self.name, str) or safe_file_name(self.name) != self.name:
            raise InvalidAttachment(f"unsafe attachment name {self.name!r}")
        if not isinstance(self.media_type, str) or not MEDIA_TYPE.fullmatch(self.media_type):
            raise InvalidAttachment(f"invalid media type {self.media_type!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise InvalidAttachment(f"invalid size {self.size!r}")
        if not isinstance(self.sha256, str) or not BLOB_SHA256.fullmatch(self.sha256):
            raise InvalidAttachment(f"invalid blob sha256 {self.sha256!r}")
        if not self.recipients:
            raise InvalidAttachment("an attachment needs at least one recipient party")
        for code in self.recipients:
            if not isinstance(code, str) or not PARTY_CODE.fullmatch(code):
                raise InvalidAttachment(f"invalid recipient party {code!r}")
        if not isinstance(self.created_at, datetime):
            raise InvalidAttachment("created_at must be a datetime")
        if not isinstance(self.uploaded_by, str) or not _EMAIL.fullmatch(self.uploaded_by):
            raise InvalidAttachment(f"invalid uploader e-mail {self.uploaded_by!r}")
        # One spelling for each value, so equal records serialise to equal bytes.
        object.__setattr__(self, "recipients", tuple(sorted(set(self.recipients))))
        object.__setattr__(self, "created_at", _utc(self.created_at))

    def to_json(self) -> bytes:
        """The canonical pointer file: sorted keys, UTF-8, two-space indent, final newline."""
        data = {
            "id": self.id,
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "recipients": list(self.recipients),
            "created_at": _format_time(self.created_at),
            "uploaded_by": self.uploaded_by,
        }
        return (json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> AttachmentRecord:
        """Read a pointer file strictly: exactly the documented fields, each well formed."""
        try:
            raw: Any = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidAttachment("the pointer file is not UTF-8 JSON") from exc
        if not isinstance(raw, dict) or set(raw) != _FIELDS:
            raise InvalidAttachment("the pointer file does not hold exactly the expected fields")
        if not isinstance(raw["recipients"], list) or not isinstance(raw["created_at"], str):
            raise InvalidAttachment("the pointer file has fields of the wrong type")
        try:
            created_at = datetime.fromisoformat(raw["created_at"])
        except ValueError as exc:
            raise InvalidAttachment("created_at is not an ISO 8601 time") from exc
        return cls(
            id=raw["id"],
            name=raw["name"],
            media_type=raw["media_type"],
            size=raw["size"],
            sha256=raw["sha256"],
            recipients=tuple(raw["recipients"]),
            created_at=created_at,
            uploaded_by=raw["uploaded_by"],
        )

    def rewrapped(self, blob: StoredBlob, recipients: Iterable[str]) -> AttachmentRecord:
        """The same attachment, now stored as blob and readable by recipients."""
        if blob.size != self.size:
            raise InvalidAttachment("a rewrapped blob must hold the same plaintext")
        return dataclasses.replace(self, sha256=blob.sha256, recipients=tuple(recipients))


def new_attachment_record(
    *,
    name: str,
    blob: StoredBlob,
    recipients: Iterable[str],
    uploaded_by: str,
    media_type: str | None = None,
    now: datetime | None = None,
) -> AttachmentRecord:
    """Describe a freshly stored blob as a new attachment with a random id."""
    return AttachmentRecord(
        id=secrets.token_hex(8),
        name=safe_file_name(name),
        media_type=parse_media_type(media_type),
        size=blob.size,
        sha256=blob.sha256,
        recipients=tuple(recipients),
        created_at=now or datetime.now(UTC),
        uploaded_by=uploaded_by,
    )


def attachment_path(slug: str, attachment_id: str) -> str:
    """The pointer file's path in the repository tree."""
    check_slug(slug)
    if not ATTACHMENT_ID.fullmatch(attachment_id):
        raise InvalidAttachment(f"invalid attachment id {attachment_id!r}")
    return f"{ATTACHMENTS}/{slug}/{attachment_id}.json"


def _root(store: RepoStore, party: str, commit: str) -> bytes:
    return bytes.fromhex(store.commit(party, commit).tree)


def _document_exists(store: RepoStore, party: str, slug: str, head: str | None) -> bool:
    if head is None:
        return False
    text_path, _ = document_paths(slug)
    return store.reader(party).entry_at(_root(store, party, head), text_path) is not None


def _record_at(
    store: RepoStore, party: str, slug: str, attachment_id: str, commit: str | None
) -> AttachmentRecord | None:
    path = attachment_path(slug, attachment_id)
    if commit is None:
        return None
    reader = store.reader(party)
    entry = reader.entry_at(_root(store, party, commit), path)
    if entry is None:
        return None
    record = AttachmentRecord.from_json(reader.read(entry[0], b"blob"))
    if record.id != attachment_id:
        raise InvalidAttachment(f"the pointer file {path} names another attachment")
    return record


def record_attachment(
    store: RepoStore,
    party: str,
    slug: str,
    record: AttachmentRecord,
    *,
    author: Identity,
    committer_name: str,
    message: str,
) -> str:
    """Commit the pointer file of a new attachment to a document; return the commit id.

    The blob must already be durable (docs/attachments.md). Raises DocumentNotFound if the
    document does not exist at head, checked under the repository lock.
    """
    files, precondition = new_pointer(store, party, slug, record)
    return store.commit_files(
        party,
        slug,
        files,
        author=author,
        committer_name=committer_name,
        message=message,
        precondition=precondition,
    )


def new_pointer(
    store: RepoStore, party: str, slug: str, record: AttachmentRecord
) -> tuple[dict[str, bytes], Callable[[str | None], None]]:
    """The files that record a new attachment's pointer, and the precondition of that write
    (also for a commit prepared to be signed elsewhere: RepoStore.prepare_commit)."""
    check_party(party)
    path = attachment_path(slug, record.id)

    def is_new(existing: AttachmentRecord | None) -> None:
        if existing is not None:
            raise AttachmentConflict(f"attachment {record.id} exists already", existing.sha256)

    return _pointer(store, party, slug, path, record, is_new)


def update_recipients(
    store: RepoStore,
    party: str,
    slug: str,
    attachment_id: str,
    new_record: AttachmentRecord,
    *,
    author: Identity,
    committer_name: str,
    message: str,
    expected_sha256: str | None = None,
) -> str:
    """Commit a replacement pointer after a rewrap (new sha256 and recipients).

    Everything but sha256 and recipients must stay as it is. With expected_sha256 (the blob
    the rewrap started from) the write is a compare-and-swap: if another writer replaced the
    pointer meanwhile, AttachmentConflict is raised and nothing is committed.
    """
    files, precondition = rewrapped_pointer(
        store, party, slug, attachment_id, new_record, expected_sha256
    )
    return store.commit_files(
        party,
        slug,
        files,
        author=author,
        committer_name=committer_name,
        message=message,
        precondition=precondition,
    )


def rewrapped_pointer(
    store: RepoStore,
    party: str,
    slug: str,
    attachment_id: str,
    new_record: AttachmentRecord,
    expected_sha256: str | None,
) -> tuple[dict[str, bytes], Callable[[str | None], None]]:
    """The files that record a rewrapped attachment's pointer, and the precondition of that
    write: only sha256 and recipients change, from expected_sha256 when given."""
    check_party(party)
    path = attachment_path(slug, attachment_id)
    if new_record.id != attachment_id:
        raise InvalidAttachment("the new record names another attachment")

    def only_rewrapped(current: AttachmentRecord | None) -> None:
        if current is None:
            raise DocumentNotFound(f"no attachment {attachment_id} on {slug!r}")
        if expected_sha256 is not None and current.sha256 != expected_sha256:
            raise AttachmentConflict(
                f"attachment {attachment_id} changed since it was read", current.sha256
            )
        unchanged = dataclasses.replace(
            new_record, sha256=current.sha256, recipients=current.recipients
        )
        if unchanged != current:
            raise InvalidAttachment("only sha256 and recipients may change")

    return _pointer(store, party, slug, path, new_record, only_rewrapped)


def _pointer(
    store: RepoStore,
    party: str,
    slug: str,
    path: str,
    record: AttachmentRecord,
    check: Callable[[AttachmentRecord | None], None],
) -> tuple[dict[str, bytes], Callable[[str | None], None]]:
    """The files that write record's pointer at path, and the precondition of that write:
    under the document's lock, the document exists and check(the pointer there now, or None)
    does not raise."""

    def precondition(head: str | None) -> None:
        if not _document_exists(store, party, slug, head):
            raise DocumentNotFound(f"no document {slug!r}")
        check(_record_at(store, party, slug, record.id, head))

    return {path: record.to_json()}, precondition


def _resolve(store: RepoStore, party: str, slug: str, at: str | None) -> str | None:
    if at is None:
        return store.head(party, slug)
    return check_sha(at)


def list_attachments(
    store: RepoStore, party: str, slug: str, at: str | None = None
) -> list[AttachmentRecord]:
    """The attachments of a document at a commit (default: head), oldest first."""
    check_slug(slug)
    commit = _resolve(store, party, slug, at)
    if commit is None:
        return []
    reader = store.reader(party)
    folder = reader.entry_at(_root(store, party, commit), f"{ATTACHMENTS}/{slug}")
    if folder is None:
        return []
    records = []
    for name, (sha, _mode) in reader.tree(folder[0]).items():
        attachment_id = name.removesuffix(".json")
        if not name.endswith(".json") or not ATTACHMENT_ID.fullmatch(attachment_id):
            continue
        record = AttachmentRecord.from_json(reader.read(sha, b"blob"))
        if record.id != attachment_id:
            raise InvalidAttachment(f"the pointer file {name} names another attachment")
        records.append(record)
    return sorted(records, key=lambda record: (record.created_at, record.id))


def get_attachment(
    store: RepoStore, party: str, slug: str, attachment_id: str, at: str | None = None
) -> AttachmentRecord:
    """One attachment of a document at a commit (default: head); DocumentNotFound if absent."""
    check_slug(slug)
    if not ATTACHMENT_ID.fullmatch(attachment_id):
        # An id that cannot exist is simply not there: the caller answers 404 either way.
        raise DocumentNotFound(f"no attachment {attachment_id!r}")
    record = _record_at(store, party, slug, attachment_id, _resolve(store, party, slug, at))
    if record is None:
        raise DocumentNotFound(f"no attachment {attachment_id} on {slug!r}")
    return record


def upload_attachment(
    store: RepoStore,
    blobs: BlobStore,
    party: str,
    slug: str,
    src: BinaryIO,
    *,
    name: str,
    media_type: str | None,
    recipients: Mapping[str, X25519PublicKey | Sequence[X25519PublicKey]],
    max_bytes: int,
    author: Identity,
    committer_name: str,
    message: str,
) -> tuple[AttachmentRecord, str]:
    """Encrypt src for recipients (party code to its key or keys) and attach it; return record
    and commit.

    The blob is made durable first and the pointer committed second (docs/attachments.md).
    The document is looked up before the upload is read, so an upload to a missing document
    stores nothing.
    """
    check_party(party)
    check_slug(slug)
    codes = [check_party(code) for code in recipients]
    if not _document_exists(store, party, slug, store.head(party, slug)):
        raise DocumentNotFound(f"no document {slug!r}")
    keys = [
        key
        for found in recipients.values()
        for key in ([found] if isinstance(found, X25519PublicKey) else found)
    ]
    blob = blobs.put(src, keys, max_bytes=max_bytes)
    record = new_attachment_record(
        name=name,
        blob=blob,
        recipients=codes,
        uploaded_by=author.email,
        media_type=media_type,
    )
    commit = record_attachment(
        store,
        party,
        slug,
        record,
        author=author,
        committer_name=committer_name,
        message=message,
    )
    return record, commit
