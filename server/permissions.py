"""Who may do what, decided in one place. Deny by default; 'cannot read' is answered as 404.

A user acts through the parties they are a member of. A State's experts and heads read and
write its documents; every member of a party taking part in a review reads exactly the versions
shared into it. Admins manage parties and users and read no content by being admins.
Services and pages ask the questions below and never compare roles themselves.
"""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from keys.protocol import APPROVAL_NAMESPACE, BUNDLE_NAMESPACE, GIT_NAMESPACE
from server.db import db_session
from server.models import (
    CommentStatus,
    ParticipantRole,
    Party,
    PartyKind,
    Review,
    ReviewParticipant,
    Role,
    Share,
    User,
)
from server.services.errors import Forbidden, NotFound

REVIEW_NOT_FOUND = "no such review, or you do not take part in it"


class Access(enum.IntFlag):
    NONE = 0
    READ = enum.auto()
    WRITE = enum.auto()


# Second factors.

# The roles whose holders approve, organise or administer: a stolen password must not be enough.
SECOND_FACTOR_ROLES = (Role.HEAD, Role.ORGANISER)


def must_enrol_second_factor(user: User, require_mfa: str) -> bool:
    """Whether the user may do nothing but enrol until they hold a second factor.

    require_mfa is the deployment's PEERLEX_REQUIRE_MFA: "roles" (heads of delegation,
    organisers and administrators), "all" (everyone) or "none".
    """
    if require_mfa == "all":
        return True
    if require_mfa == "none":
        return False
    return user.is_admin or any(Role(m.role) in SECOND_FACTOR_ROLES for m in user.memberships)


# Memberships.


def fits_party(role: Role, party: Party) -> bool:
    """Experts and heads belong to States; organisers and observers to organisations."""
    state_roles = (Role.EXPERT, Role.HEAD)
    return (role in state_roles) == (party.kind == PartyKind.STATE)


# Documents.


def document_access(user: User, party: str) -> Access:
    """What a user may do with all of a party's documents through membership of that party."""
    if can_write_for(user, party):
        return Access.READ | Access.WRITE
    return Access.NONE


def can_write_for(user: User, party: str) -> bool:
    """Whether the user speaks for a State: its experts and heads."""
    return user.role_in(party) in (Role.EXPERT, Role.HEAD)


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


# Parties.


def is_member(user: User, party: str) -> bool:
    return user.role_in(party) is not None


# The people of a State that holds its own keys: its experts sign versions, its heads also
# approvals, and both may register and hand over its age recipients.
STATE_KEY_HOLDERS = (Role.EXPERT, Role.HEAD)


def holds_state_keys(user: User, party: Party) -> bool:
    """Whether the user is one of the State's people who hold its keys (expert or head)."""
    return party.kind == PartyKind.STATE and user.role_in(party.code) in STATE_KEY_HOLDERS


def may_manage_recipients(user: User, party: Party) -> bool:
    """Organisers register their own organisation's offline age recipients; the experts and
    heads of a State that holds its own keys register the State's (its attachments are
    encrypted to them)."""
    if party.kind == PartyKind.ORGANISATION:
        return user.role_in(party.code) == Role.ORGANISER
    return party.holds_own_keys and holds_state_keys(user, party)


# Users' own keys.

# What a key registered by each role may sign, as its allowed_signers line says: an expert
# writes versions, a head also approves, an organiser writes and issues final bundles for the
# organisation. Observers sign nothing, so they register no key.
KEY_NAMESPACES_BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.EXPERT: (GIT_NAMESPACE,),
    Role.HEAD: (GIT_NAMESPACE, APPROVAL_NAMESPACE),
    Role.ORGANISER: (GIT_NAMESPACE, BUNDLE_NAMESPACE),
}


def key_namespaces(role: str) -> tuple[str, ...]:
    """The namespaces a key registered with this role signs in; none for any other role."""
    return KEY_NAMESPACES_BY_ROLE.get(Role(role), ()) if role in Role.__members__.values() else ()


def key_membership(user: User, party: str | None) -> tuple[Party, Role]:
    """The party and role a user registers a key for: the one named, or the first that signs.

    Administrators act for no party and sign nothing; observers sign nothing either.
    """
    for membership in user.memberships:
        role = Role(membership.role)
        if party is not None and membership.party.code != party:
            continue
        if role in KEY_NAMESPACES_BY_ROLE:
            return membership.party, role
        if party is not None:
            break
    if party is not None and user.role_in(party) is None:
        raise NotFound("no such party, or you are not a member")
    raise Forbidden("keys are registered by a State's experts and heads and by organisers")


# Reviews.


def review_named(rid: str, session: Session | None = None) -> Review | None:
    """The review a URL names by id or slug, whoever asks; None when there is none."""
    found: Review | None = (session or db_session()).scalar(select(Review).where(Review.named(rid)))
    return found


def find_review(user: User, rid: str) -> Review:
    """The review named by slug or id, if the user takes part in it; else 404."""
    review = review_named(rid)
    if review is None or not can_see_review(user, review):
        raise NotFound(REVIEW_NOT_FOUND)
    return review


def can_see_review(user: User, review: Review) -> bool:
    return any(review.role_of(code) is not None for code in user.party_codes())


def organising_parties(user: User) -> list[Party]:
    """The organisations the user is an organiser of, in the order of their memberships."""
    return [m.party for m in user.memberships if m.role == Role.ORGANISER]


def require_review_opener(user: User) -> Party:
    """The organisation a new review is opened for: the user's first; refuses non-organisers."""
    own = organising_parties(user)
    if not own:
        raise Forbidden("only organisers open reviews")
    return own[0]


def organiser_party(user: User, review: Review) -> str | None:
    """The organisation through which the user organises this review, if any."""
    for party in organising_parties(user):
        if review.role_of(party.code) == ParticipantRole.ORGANISER:
            return party.code
    return None


def organises(user: User, review: Review) -> bool:
    """Whether the user is an organiser of an organisation that organises this review."""
    return organiser_party(user, review) is not None


def require_organiser(user: User, review: Review, refusal: str) -> str:
    """The user's organising party in this review; refuses (403, with refusal) anyone else."""
    found = organiser_party(user, review)
    if found is None:
        raise Forbidden(refusal)
    return found


def takes_part_as_state(review: Review, party: str) -> bool:
    return review.role_of(party) == ParticipantRole.STATE


def review_organisations(review: Review) -> list[str]:
    """The organisations taking part in a review (organisers, then observers)."""
    return review.parties_with(ParticipantRole.ORGANISER) + review.parties_with(
        ParticipantRole.OBSERVER
    )


def may_approve(user: User, party: str) -> bool:
    """Only the head of a State's delegation approves its documents."""
    return user.role_in(party) == Role.HEAD


def heads_of(user: User) -> set[str]:
    """The States whose documents the user may approve."""
    return {code for code in user.party_codes() if may_approve(user, code)}


# Comments.


def may_decide_comments(user: User, review: Review, party: str) -> bool:
    """Whether the user may set any status on comments on a State's document in a review:
    the review's organisers and the State's own experts and heads."""
    return organises(user, review) or can_write_for(user, party)


def may_set_comment_status(
    user: User, review: Review, party: str, author_id: int, status: str
) -> bool:
    """Organisers set any status; the owning State any; the author may resolve or reopen."""
    if may_decide_comments(user, review, party):
        return True
    return author_id == user.id and status in (CommentStatus.OPEN, CommentStatus.RESOLVED)


def may_edit_comment(user: User, author_id: int) -> bool:
    return author_id == user.id


# The audit log.


def require_audit_reader(user: User) -> set[int]:
    """The organisations the user organises for; refuses anyone who is no organiser or admin.

    The log's size, roots and checkpoints grow with every write and refusal in every review,
    so showing them to anyone else would let a State watch the others' activity.
    """
    parties = {party.id for party in organising_parties(user)}
    if not parties and not user.is_admin:
        raise Forbidden("only organisers and administrators read the audit log")
    return parties


def audit_scope(user: User) -> set[int] | None:
    """Review ids whose entries the user may read; None for all (administrators)."""
    parties = require_audit_reader(user)
    if user.is_admin:
        return None
    query = select(ReviewParticipant.review_id).where(
        ReviewParticipant.party_id.in_(parties),
        ReviewParticipant.role == ParticipantRole.ORGANISER.value,
    )
    return set(db_session().scalars(query))


def require_admin(user: User, refusal: str) -> None:
    if not user.is_admin:
        raise Forbidden(refusal)
