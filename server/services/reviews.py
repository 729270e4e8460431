"""Reviews and shares: open a review, move it on, share a version of a State's document into it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.db import db_session
from server.models import (
    Approval,
    ParticipantRole,
    Party,
    PartyKind,
    Review,
    ReviewParticipant,
    ReviewState,
    Share,
    User,
    utcnow,
)
from server.permissions import (
    can_write_for,
    find_review,
    require_organiser,
    require_review_opener,
    takes_part_as_state,
)
from server.services import audit
from server.services.attachments import reshare
from server.services.context import services
from server.services.errors import Conflict, Forbidden, Invalid
from server.services.parties import find_party

# Each state may move only forward, one step at a time.
NEXT_STATE = {ReviewState.OPEN: ReviewState.AGREEMENT, ReviewState.AGREEMENT: ReviewState.CLOSED}
# Slugs a review may not take: a page's own address under /reviews/, and digits alone, which
# name a review by its id in every URL (Review.named).
RESERVED_REVIEW_SLUGS = frozenset({"new"})


def participants_by_role(review: Review) -> dict[str, list[str]]:
    """The review's parties under the names the API and the bundle give their roles."""
    return {
        "states": review.parties_with(ParticipantRole.STATE),
        "organisers": review.parties_with(ParticipantRole.ORGANISER),
        "observers": review.parties_with(ParticipantRole.OBSERVER),
    }


def _parties(codes: list[str], kind: PartyKind, field: str) -> list[Party]:
    found = []
    for code in codes:
        party = db_session().scalar(select(Party).where(Party.code == code))
        if party is None or party.kind != kind:
            raise Invalid(
                f"{field}: {code} is not a known {kind.value}",
                "invalid-party",
                errors={field: [f"{code} is not a known {kind.value}"]},
                party=code,
                field=field,
            )
        found.append(party)
    return found


def check_review_slug(slug: str) -> None:
    """Refuse a slug that a URL would read as something else than this review."""
    if slug in RESERVED_REVIEW_SLUGS or slug.isdigit():
        detail = f"{slug!r} is the address of a page or of a review id: choose another slug"
        raise Invalid(detail, "reserved-slug", errors={"slug": [detail]})


def create_review(user: User, data: dict[str, Any]) -> Review:
    """Open a review; the creator's organisation is always among its organisers."""
    opener = require_review_opener(user)
    check_review_slug(data["slug"])
    session = db_session()
    if session.scalar(select(Review).where(Review.slug == data["slug"])) is not None:
        raise Conflict(f"a review {data['slug']!r} exists already", "review-exists")
    organisers = sorted(set(data.get("organisers", [])) | {opener.code})
    roles = {
        ParticipantRole.STATE: _parties(data["states"], PartyKind.STATE, "states"),
        ParticipantRole.ORGANISER: _parties(organisers, PartyKind.ORGANISATION, "organisers"),
        ParticipantRole.OBSERVER: _parties(
            data.get("observers", []), PartyKind.ORGANISATION, "observers"
        ),
    }
    codes = [p.code for parties in roles.values() for p in parties]
    if len(codes) != len(set(codes)):
        twice = sorted({code for code in codes if codes.count(code) > 1})
        raise Invalid(
            "a party may take part in a review in one role only",
            "duplicate-party",
            parties=twice,
        )
    review = Review(slug=data["slug"], title=data["title"], created_by_id=user.id)
    for role, parties in roles.items():
        for party in parties:
            review.participants.append(ReviewParticipant(party=party, role=role.value))
    session.add(review)
    session.flush()
    audit.record(user, "review.create", review.slug, review_id=review.id, participants=codes)
    session.commit()
    return review


def list_reviews(user: User) -> list[Review]:
    codes = user.party_codes()
    if not codes:
        return []
    query = (
        select(Review)
        .join(ReviewParticipant)
        .join(Party)
        .where(Party.code.in_(codes))
        .order_by(Review.created_at.desc(), Review.id.desc())
        .distinct()
    )
    return list(db_session().scalars(query))


def change_state(user: User, rid: str, state: str) -> Review:
    """Move a review on (open -> agreement -> closed); organisers only."""
    review = find_review(user, rid)
    require_organiser(user, review, "only the review's organisers change its state")
    current = ReviewState(review.state)
    wanted = ReviewState(state)
    if NEXT_STATE.get(current) != wanted:
        raise Conflict(
            f"a review in state {current.value} cannot move to {wanted.value}",
            "invalid-transition",
        )
    review.state = wanted.value
    audit.record(user, "review.state", review.slug, review_id=review.id, state=wanted.value)
    db_session().commit()
    return review


def share_version(user: User, rid: str, data: dict[str, Any]) -> tuple[Share, bool]:
    """Share one version of a State's document into a review (idempotent)."""
    review = find_review(user, rid)
    code, slug, version = data["party"], data["slug"], data["version"]
    party = find_party(code)
    if not can_write_for(user, code):
        raise Forbidden("only the State's own experts share its documents")
    if not takes_part_as_state(review, code):
        raise Invalid(f"{code} does not take part in this review as a State", "not-a-participant")
    if review.state == ReviewState.CLOSED:
        raise Conflict("the review is closed", "review-closed")
    store = services().store
    if (
        not store.in_history(code, slug, version)
        or store.current_version(code, slug, version) != version
    ):
        raise Invalid(f"{version} is not a version of {code}/{slug}", "unknown-version")
    session = db_session()
    existing = session.scalar(
        select(Share).where(
            Share.review_id == review.id,
            Share.party_id == party.id,
            Share.slug == slug,
            Share.version == version,
        )
    )
    if existing is not None:
        return existing, False
    void_approvals(user, review, party, slug)
    share = Share(
        review_id=review.id, party=party, slug=slug, version=version, shared_by_id=user.id
    )
    session.add(share)
    session.flush()
    audit.record(user, "share.create", f"{code}/{slug}@{version}", review_id=review.id)
    # The review's parties may now read the document's attachments: re-wrap their headers
    # before the share is committed, so a failure leaves no share without readable files.
    reshare(code, slug, user)
    session.commit()
    return share, True


def void_approvals(user: User, review: Review, party: Party, slug: str) -> None:
    """A newer share replaces what was approved: the old approval no longer counts."""
    for approval in db_session().scalars(
        select(Approval).where(
            Approval.review_id == review.id,
            Approval.party_id == party.id,
            Approval.slug == slug,
            Approval.voided_at.is_(None),
        )
    ):
        approval.voided_at = utcnow()
        audit.record(
            user, "approval.void", f"{party.code}/{slug}@{approval.version}", review_id=review.id
        )


def list_shares(user: User, rid: str) -> list[Share]:
    review = find_review(user, rid)
    query = select(Share).where(Share.review_id == review.id).order_by(Share.created_at, Share.id)
    return list(db_session().scalars(query))
