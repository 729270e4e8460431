"""Approvals: a State's head signs the final version of each of its documents in a review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from keys.protocol import APPROVAL_NAMESPACE
from keys.statements import canonical_json
from server.db import db_session
from server.models import (
    Approval,
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


def approve(user: User, rid: str, data: dict[str, Any]) -> Approval:
    """Sign and record a head's approval of the version last shared into the review."""
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
    if existing is not None and existing.version == version:
        return existing
    approved_at = utcnow().replace(microsecond=0)
    statement = canonical_json(
        {
            "type": STATEMENT_TYPE,
            "review": review.slug,
            "party": code,
            "slug": slug,
            "commit": version,
            "approved_at": approved_at.isoformat().replace("+00:00", "Z"),
            "approved_by": user.email,
        }
    )
    signature = services().keys.current(code).sign(statement, APPROVAL_NAMESPACE)
    approval = Approval(
        review_id=review.id,
        party_id=party.id,
        slug=slug,
        version=version,
        statement=statement.decode(),
        signature=signature,
        approved_by_id=user.id,
        created_at=approved_at,
    )
    session = db_session()
    session.add(approval)
    session.flush()
    audit.record(user, "approval.create", f"{code}/{slug}@{version}", review_id=review.id)
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
