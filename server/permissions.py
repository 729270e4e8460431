"""Who may do what, decided in one place. Deny by default; 'cannot read' is answered as 404.

A user acts through the parties they are a member of. A State's experts and heads read and
write its documents; every member of a party taking part in a review reads exactly the versions
shared into it. Admins manage parties and users and read no content by being admins.
"""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.orm import aliased

from server.db import db_session
from server.models import ParticipantRole, Party, Review, ReviewParticipant, Role, Share, User


class Access(enum.IntFlag):
    NONE = 0
    READ = enum.auto()
    WRITE = enum.auto()


def document_access(user: User, party: str) -> Access:
    """What a user may do with all of a party's documents through membership of that party."""
    role = user.role_in(party)
    if role in (Role.EXPERT, Role.HEAD):
        return Access.READ | Access.WRITE
    return Access.NONE


def shared_versions(user: User, party: str, slug: str) -> set[str]:
    """Versions of a document shared into reviews that one of the user's parties takes part in."""
    codes = user.party_codes()
    if not codes:
        return set()
    owner, viewer = aliased(Party), aliased(Party)
    query = (
        select(Share.version)
        .join(owner, Share.party_id == owner.id)
        .join(ReviewParticipant, ReviewParticipant.review_id == Share.review_id)
        .join(viewer, ReviewParticipant.party_id == viewer.id)
        .where(owner.code == party, Share.slug == slug, viewer.code.in_(codes))
    )
    return set(db_session().scalars(query))


def can_see_review(user: User, review: Review) -> bool:
    return any(review.role_of(code) is not None for code in user.party_codes())


def organises(user: User, review: Review) -> bool:
    """Whether the user is an organiser of an organisation that organises this review."""
    return any(
        review.role_of(m.party.code) == ParticipantRole.ORGANISER and m.role == Role.ORGANISER
        for m in user.memberships
    )


def can_write_for(user: User, party: str) -> bool:
    """Whether the user speaks for a State: its experts and heads."""
    return user.role_in(party) in (Role.EXPERT, Role.HEAD)
