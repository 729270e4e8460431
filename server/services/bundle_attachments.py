"""Attachments for a final bundle: each body re-wrapped (header only) to the offline recipients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repo_store.attachments import list_attachments
from server.db import db_session
from server.models import Approval, BundleRewrap, Party, Review
from server.permissions import review_organisations
from server.services.attachments import blob_store
from server.services.context import services
from server.services.errors import Conflict
from server.services.originals import in_review
from server.services.parties import find_party
from server.services.recipients import recipients_of


def _rewrapped(source: str, owner: Party, recipients: list[str]) -> str | None:
    """The blob of source re-wrapped for recipients: made once, then reused.

    The server cannot open the blob of an owner that holds its own keys: such a blob is taken
    only when its copy for these recipients is already recorded, and is None otherwise.
    """
    session = db_session()
    key = ",".join(recipients)
    cached = session.get(BundleRewrap, (source, key))
    blobs = blob_store()
    if cached is not None and blobs.exists(cached.result_sha256):
        return cached.result_sha256
    if owner.holds_own_keys:
        return None
    identities = [k.encryption_key for k in services().keys.all_private(owner.code)]
    from keys.age import parse_recipient

    blob = blobs.rewrap(source, identities, [parse_recipient(r) for r in recipients])
    if cached is None:
        session.add(BundleRewrap(source_sha256=source, recipients=key, result_sha256=blob.sha256))
    else:
        cached.result_sha256 = blob.sha256
    session.flush()
    return blob.sha256


def bundle_attachments(
    review: Review, approvals: dict[tuple[str, str], Approval], files: dict[str, bytes | Path]
) -> list[dict[str, Any]]:
    """Add every approved document's attachments to files; return their manifest entries."""
    recipients = recipients_of(review_organisations(review))
    store, blobs = services().store, blob_store()
    entries = []
    waiting: list[dict[str, str]] = []
    for code, slug in sorted(approvals):
        owner = find_party(code)
        # The kept original of a version not shared into this review is not the review's.
        records = in_review(review.id, code, slug, list_attachments(store, code, slug))
        if records and not recipients:
            raise Conflict(
                "no organisation of this review has registered an offline age "
                "recipient to encrypt the attachments to",
                "no-offline-recipient",
            )
        for record in records:
            sha = _rewrapped(record.sha256, owner, recipients)
            if sha is None:
                waiting.append({"party": code, "slug": slug, "id": record.id})
                continue
            path = f"attachments/{code}/{slug}/{record.id}.age"
            files[path] = blobs.path(sha)
            entries.append(
                {
                    "party": code,
                    "slug": slug,
                    "id": record.id,
                    "name": record.name,
                    "media_type": record.media_type,
                    "size": record.size,
                    "file": path,
                    "recipients": recipients,
                }
            )
    if waiting:
        raise Conflict(
            "some attachments belong to States that hold their own keys and are not yet "
            "encrypted to the organisers' offline recipients; their delegates re-wrap them",
            "attachments-not-rewrapped",
            missing=waiting,
        )
    return entries
