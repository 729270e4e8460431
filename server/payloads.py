"""What the API and the pages show of each domain object: the dictionaries the schemas dump.

Services answer with the objects themselves (a Review, a Share, a Comment with its anchor);
these turn them into the fields that docs and server/schemas.py describe.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from repo_store.attachments import AttachmentRecord
from server.models import Approval, Review, Share
from server.services.comments import AnchoredComment
from server.services.documents import DocumentView, VersionView
from server.services.reviews import participants_by_role
from server.services.signing_requests import IssuedRequest


def review_payload(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "slug": review.slug,
        "title": review.title,
        "state": review.state,
        "created_at": review.created_at,
        **participants_by_role(review),
    }


def _version_of(row: Share | Approval) -> dict[str, Any]:
    """Which version of which document a share or an approval is about."""
    return {"party": row.party.code, "slug": row.slug, "version": row.version}


def share_payload(share: Share) -> dict[str, Any]:
    return {
        **_version_of(share),
        "shared_by": share.shared_by.email,
        "shared_at": share.created_at,
    }


def approval_payload(approval: Approval) -> dict[str, Any]:
    return {
        **_version_of(approval),
        "approved_by": approval.approved_by.email,
        "approved_at": approval.created_at,
        "statement": approval.statement,
        "signature": approval.signature,
        "voided": approval.voided_at is not None,
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


def attachment_payload(
    code: str, slug: str, record: AttachmentRecord, entitled: list[str] | None = None
) -> dict[str, Any]:
    data = asdict(record)
    data["recipients"] = list(record.recipients)
    # Parties entitled to read it that it is not encrypted to yet: a State that holds its own
    # keys re-wraps on its delegate's machine, after a share.
    waiting = sorted(set(entitled or ()) - set(record.recipients))
    return {"party": code, "slug": slug, **data, "waiting_for": waiting}


def signing_request_payload(issued: IssuedRequest) -> dict[str, Any]:
    found = {
        "id": issued.token,
        "payload": issued.payload.decode(),
        "expires_at": issued.expires_at,
    }
    if issued.tree is not None:
        found |= {"tree": issued.tree, "files": issued.files}
    return found


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
            "signer": check.owner,
            "held_by_server": check.held_by_server,
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
