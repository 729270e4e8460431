"""Approvals: a State's head signs the final version of each of its documents in a review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from keys.protocol import APPROVAL_NAMESPACE
from keys.statements import canonical_json
from server.db import db_session
from server.models import (
    Approval,
    Party,
    Review,
    ReviewState,
    Share,
    User,
    utcnow,
)
from server.permissions import find_review, may_approve, takes_part_as_state
from server.services import audit
from server.services.context import services
from server.services.errors import Conflict, Forbidden, Invalid
from server.services.parties import find_party

STATEMENT_TYPE = "peerlex-approval/v1"


def latest_shares(review: Review) -> dict[tuple[str, str], Share]:
    """The newest share of each (party, slug) in the review: the version up for approval."""
    shares = db_session().scalars(
        select(Share).where(Share.review_id == review.id).order_by(Share.created_at, Share.id)
    )
    return {(s.party.code, s.slug): s for s in shares}


def active_approvals(review: Review) -> dict[tuple[str, str], Approval]:
    query = select(Approval).where(Approval.review_id == review.id, Approval.voided_at.is_(None))
    return {(a.party.code, a.slug): a for a in db_session().scalars(query)}


@dataclass(frozen=True)
class ApprovalDraft:
    """An approval ready to be signed: the canonical statement and what it approves."""

    review: Review
    party: Party
    slug: str
    version: str
    statement: bytes
    approved_at: datetime
    # The standing approval of this very version, if the head approved it already.
    existing: Approval | None


def draft_approval(
    user: User, rid: str, data: dict[str, Any], approved_at: datetime | None = None
) -> ApprovalDraft:
    """Check that the user may approve the version as data asks; build what the head signs."""
    review = find_review(user, rid)
    code, slug, version = data["party"], data["slug"], data["version"]
    party = find_party(code)
    if not may_approve(user, code):
        raise Forbidden("only the head of the State's delegation approves its documents")
    if not takes_part_as_state(review, code):
        raise Invalid(f"{code} does not take part in this review as a State", "not-a-participant")
    if review.state != ReviewState.AGREEMENT:
        raise Conflict(
            f"approvals are made in the agreement state, not {review.state}", "wrong-state"
        )
    latest = latest_shares(review).get((code, slug))
    if latest is None or latest.version != version:
        raise Invalid(
            "only the version last shared into this review can be approved",
            "not-the-shared-version",
            current=latest.version if latest else None,
        )
    existing = active_approvals(review).get((code, slug))
    moment = approved_at or utcnow().replace(microsecond=0)
    statement = canonical_json(
        {
            "type": STATEMENT_TYPE,
            "review": review.slug,
            "party": code,
            "slug": slug,
            "commit": version,
            "approved_at": moment.isoformat().replace("+00:00", "Z"),
            "approved_by": user.email,
        }
    )
    same = existing if existing is not None and existing.version == version else None
    return ApprovalDraft(review, party, slug, version, statement, moment, same)


def approve(user: User, rid: str, data: dict[str, Any]) -> Approval:
    """Sign, with the State's key held here, and record a head's approval of the version last
    shared into the review."""
    draft = draft_approval(user, rid, data)
    if draft.existing is not None:
        return draft.existing
    if draft.party.holds_own_keys:
        raise Conflict(
            f"{draft.party.code} holds its own keys: ask for a signing request (POST …/approvals"
            "/requests) and sign it on your machine, as `peerlex approve --key KEY` does",
            "signature-required",
        )
    signature = services().keys.current(draft.party.code).sign(draft.statement, APPROVAL_NAMESPACE)
    return record_approval(user, draft, signature)


def record_approval(user: User, draft: ApprovalDraft, signature: str, **extra: Any) -> Approval:
    """Store a signed approval (audited) and commit."""
    approval = Approval(
        review_id=draft.review.id,
        party_id=draft.party.id,
        slug=draft.slug,
        version=draft.version,
        statement=draft.statement.decode(),
        signature=signature,
        approved_by_id=user.id,
        created_at=draft.approved_at,
    )
    session = db_session()
    session.add(approval)
    session.flush()
    where = f"{draft.party.code}/{draft.slug}@{draft.version}"
    audit.record(user, "approval.create", where, review_id=draft.review.id, **extra)
    session.commit()
    session.refresh(approval)
    return approval


def list_approvals(user: User, rid: str) -> list[Approval]:
    review = find_review(user, rid)
    query = select(Approval).where(Approval.review_id == review.id).order_by(Approval.id)
    return list(db_session().scalars(query))


def missing_approvals(review: Review) -> list[dict[str, str]]:
    """Every shared document whose last shared version has no standing approval."""
    approvals = active_approvals(review)
    missing = []
    for (code, slug), share in sorted(latest_shares(review).items()):
        approval = approvals.get((code, slug))
        if approval is None or approval.version != share.version:
            missing.append({"party": code, "slug": slug, "version": share.version})
    return missing
