"""What the API and the pages show of each domain object: the dictionaries the schemas dump.

Services answer with the objects themselves (a Review, a Share, a Comment with its anchor);
these turn them into the fields that docs and server/schemas.py describe.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from repo_store.attachments import AttachmentRecord
from server.models import Approval, OfflineRecipient, ParticipantRole, Review, Share
from server.services.comments import AnchoredComment
from server.services.diffs import DiffPage
from server.services.documents import DocumentView, VersionView


def review_payload(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "slug": review.slug,
        "title": review.title,
        "state": review.state,
        "created_at": review.created_at,
        "states": review.parties_with(ParticipantRole.STATE),
        "organisers": review.parties_with(ParticipantRole.ORGANISER),
        "observers": review.parties_with(ParticipantRole.OBSERVER),
    }


def share_payload(share: Share) -> dict[str, Any]:
    return {
        "party": share.party.code,
        "slug": share.slug,
        "version": share.version,
        "shared_by": share.shared_by.email,
        "shared_at": share.created_at,
    }


def approval_payload(approval: Approval) -> dict[str, Any]:
    return {
        "party": approval.party.code,
        "slug": approval.slug,
        "version": approval.version,
        "approved_by": approval.approved_by.email,
        "approved_at": approval.created_at,
        "statement": approval.statement,
        "signature": approval.signature,
        "voided": approval.voided_at is not None,
    }


def recipient_payload(row: OfflineRecipient) -> dict[str, Any]:
    return {
        "party": row.party.code,
        "recipient": row.recipient,
        "label": row.label,
        "created_at": row.created_at,
    }


def comment_payload(found: AnchoredComment) -> dict[str, Any]:
    comment = found.comment
    return {
        "id": comment.id,
        "party": comment.party.code,
        "slug": comment.slug,
        "version": comment.version,
        "parent": comment.parent_id,
        "author": comment.author.email,
        "author_party": comment.author_party,
        "body": comment.body,
        "status": comment.status,
        "quote": comment.quote,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "anchor": {**asdict(found.anchor), "version": found.version},
    }


def attachment_payload(code: str, slug: str, record: AttachmentRecord) -> dict[str, Any]:
    data = asdict(record)
    data["recipients"] = list(record.recipients)
    return {"party": code, "slug": slug, **data}


def version_payload(view: VersionView) -> dict[str, Any]:
    info, check = view.info, view.signature
    return {
        "commit": info.sha,
        "parent": view.parent,
        "author": {"name": info.author_name, "email": info.author_email},
        "message": info.summary,
        "committed_at": info.committed_at,
        "signature": {
            "status": check.status,
            "fingerprint": check.fingerprint,
            "party": check.party,
        },
    }


def document_payload(view: DocumentView, *, content: bool) -> dict[str, Any]:
    doc = view.doc
    payload: dict[str, Any] = {
        "party": view.party,
        "slug": doc.slug,
        "title": doc.metadata.get("title"),
        "kind": doc.metadata.get("kind"),
        "language": doc.metadata.get("language"),
        "version": version_payload(view.version),
    }
    if content:
        payload["content"] = doc.content
    return payload


def diff_page_payload(found: DiffPage) -> dict[str, Any]:
    """One page of a structural comparison (format json), as docs/formats.md describes."""
    return {
        "party": found.party,
        "slug": found.slug,
        "from": found.old,
        "to": found.new,
        "page": found.page,
        "pages": found.pages,
        "first_block": found.first_block,
        "blocks_total": found.blocks_total,
        "blocks": json.loads(found.body),
        "warnings": found.meta.get("warnings", []),
        "stats": found.meta.get("stats", {}),
    }
