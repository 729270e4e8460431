"""The kept originals of versions: an attachment recorded by the very commit that made a version
(a Word draft imported as that version) belongs to that version, and is read only by those who
may read it; every other attachment belongs to the document as a whole (docs/word-api.md)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from repo_store.attachments import AttachmentRecord, list_attachments
from server.db import db_session
from server.models import Party, ReviewParticipant, Share, User
from server.services.context import services
from server.services.documents import visibility

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def original_versions(code: str, slug: str, records: Iterable[AttachmentRecord]) -> dict[str, str]:
    """Attachment id → the version whose own commit recorded it, for those so recorded."""
    store = services().store
    # Only an imported Word draft is ever recorded by a version's own commit: other
    # attachments need no walk through the history.
    wanted = {record.id for record in records if record.media_type == DOCX_MEDIA_TYPE}
    if not wanted:
        return {}
    recorded_by: dict[str, str] = {}
    # Back from head: an attachment is in every commit from the one that recorded it onwards,
    # so the oldest commit that holds it recorded it, and the walk ends where none is held.
    for info in store.history(code, slug):
        held = wanted & {r.id for r in list_attachments(store, code, slug, at=info.sha)}
        if not held:
            break
        for attachment_id in held:
            recorded_by[attachment_id] = info.sha
    return {
        attachment_id: commit
        for attachment_id, commit in recorded_by.items()
        if store.current_version(code, slug, commit) == commit
    }


def readable_records(
    user: User, code: str, slug: str, records: list[AttachmentRecord]
) -> list[AttachmentRecord]:
    """The records the user may read: all, less the originals of versions they may not see."""
    seen = visibility(user, code, slug)
    if seen.everything or not records:
        return records
    hidden = {a for a, v in original_versions(code, slug, records).items() if not seen.allows(v)}
    return [record for record in records if record.id not in hidden]


def in_review(
    review_id: int, code: str, slug: str, records: list[AttachmentRecord]
) -> list[AttachmentRecord]:
    """The records a review's bundle carries: all, less the originals of versions not shared
    into that review."""
    if not records:
        return records
    shared = set(
        db_session().scalars(
            select(Share.version)
            .join(Share.party)
            .where(Share.review_id == review_id, Party.code == code, Share.slug == slug)
        )
    )
    hidden = {a for a, v in original_versions(code, slug, records).items() if v not in shared}
    return [record for record in records if record.id not in hidden]


def version_readers(code: str, slug: str, version: str) -> list[str]:
    """The owning State and every party of a review this version is shared into: whom the
    version's original is encrypted to."""
    query = (
        select(Party.code)
        .join(ReviewParticipant, ReviewParticipant.party_id == Party.id)
        .join(Share, Share.review_id == ReviewParticipant.review_id)
        .where(Share.party.has(code=code), Share.slug == slug, Share.version == version)
    )
    return sorted({code, *db_session().scalars(query)})


def recipients_by_record(
    code: str, slug: str, records: list[AttachmentRecord], document_wide: list[str]
) -> dict[str, list[str]]:
    """Attachment id → the parties it should be encrypted to: an original, its version's
    readers; any other, the document's entitled parties (document_wide)."""
    originals = original_versions(code, slug, records)
    return {
        record.id: version_readers(code, slug, originals[record.id])
        if record.id in originals
        else document_wide
        for record in records
    }
