"""Invitations: an administrator (anyone, to any party and role) or an organiser (experts and
heads of the States in its open reviews) invites a person by a one-time link, which the invitee
opens to set a password; the same code path for the API, the pages and the command line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from repo_store.names import PARTY_CODE
from server.db import db_session
from server.link_models import Invitation
from server.model_base import ID_MAX, utcnow
from server.models import ParticipantRole, Party, Review, ReviewState, Role, User
from server.passwords import check_password_rules
from server.permissions import fits_party, organises, organising_parties
from server.services import audit
from server.services.context import services
from server.services.errors import Conflict, Forbidden, Invalid, NotFound
from server.services.invitation_mail import mail_invitation
from server.services.one_time_links import claim_link, link_url, new_token, usable_link
from server.services.users import (
    AccountRefused,
    InvalidAccountField,
    add_user,
    check_user_fields,
    normalise_email,
)

INVITATION_LIFETIME = timedelta(days=7)
INVITATION_PATH = "/invitations"
# What an organiser may invite people as: the delegates of the States in its reviews.
ORGANISER_INVITES = (Role.EXPERT.value, Role.HEAD.value)
NO_SUCH_INVITATION = "no such invitation"


class InvitationUnusable(Exception):
    """The invitation link was used, revoked, expired or altered."""


@dataclass(frozen=True)
class Issued:
    """A new invitation, and its link: shown once, never stored; mailed too, where the
    deployment has a mail server and it took the mail."""

    invitation: Invitation
    url: str
    mailed: bool = False


def may_invite(user: User) -> bool:
    """Whether the user invites anyone at all: administrators and organisers."""
    return user.is_admin or bool(organising_parties(user))


def organiser_states(user: User) -> list[str]:
    """The States taking part in the open reviews the user organises: whom it may invite to."""
    open_reviews = db_session().scalars(
        select(Review).where(Review.state == ReviewState.OPEN.value).order_by(Review.id)
    )
    found = {
        participant.party.code
        for review in open_reviews
        if organises(user, review)
        for participant in review.participants
        if participant.role == ParticipantRole.STATE.value
    }
    return sorted(found)


def invitable_parties(user: User) -> list[Party]:
    """The parties the user may invite people to (for the form's choices)."""
    query = select(Party).order_by(Party.code)
    if not user.is_admin:
        query = query.where(Party.code.in_(organiser_states(user)))
    return list(db_session().scalars(query))


def invitable_roles(user: User) -> tuple[str, ...]:
    return tuple(role.value for role in Role) if user.is_admin else ORGANISER_INVITES


def _invalid(field: str, detail: str) -> Invalid:
    return Invalid(detail, "invalid-invitation", errors={field: [detail]})


def _pending() -> Any:
    return (
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow(),
    )


def invite(user: User, email: str, party_code: str, role: str, base_url: str) -> Issued:
    """Invite email to party_code as role, and commit (audited); refused as the rules say,
    writing nothing. Answers the invitation with its link, which is not stored."""
    if not may_invite(user):
        raise Forbidden("only administrators and organisers invite people")
    email = normalise_email(email)
    if role not in {r.value for r in Role}:
        raise _invalid("role", f"a role is one of {', '.join(r.value for r in Role)}")
    try:
        check_user_fields(email, "", role)
    except InvalidAccountField as exc:
        raise _invalid(exc.field, str(exc)) from exc
    session = db_session()
    # A malformed code names no party, and never reaches the database (PostgreSQL refuses a
    # NUL byte in a text parameter with an error, not an empty answer).
    party = (
        session.scalar(select(Party).where(Party.code == party_code))
        if PARTY_CODE.fullmatch(party_code)
        else None
    )
    if party is None:
        raise _invalid("party", f"no party {party_code}")
    if not user.is_admin:
        if role not in ORGANISER_INVITES:
            raise Forbidden("an organiser invites experts and heads of delegation only")
        if party.code not in organiser_states(user):
            raise Forbidden("an organiser invites only to States taking part in its open reviews")
    if not fits_party(Role(role), party):
        raise _invalid("role", f"role {role} does not fit a party of kind {party.kind}")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("a user with this email exists already", "account-exists")
    if session.scalar(select(Invitation.id).where(Invitation.email == email, *_pending())):
        raise Conflict("an invitation to this email is pending: revoke it first", "invited")
    token, digest = new_token()
    now = utcnow()
    invitation = Invitation(
        email=email,
        party=party,
        role=role,
        invited_by_id=user.id,
        token_hash=digest,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        user, "invitation.create", f"invitation/{invitation.id}", email=email, party=party.code
    )
    session.commit()
    url = link_url(base_url, INVITATION_PATH, token)
    return Issued(invitation, url, mail_invitation(services().config, invitation, url))


def pending_invitations(user: User) -> list[Invitation]:
    """The pending invitations the user sees: all for an administrator, else their own."""
    query = select(Invitation).where(*_pending()).order_by(Invitation.id)
    if not user.is_admin:
        query = query.where(Invitation.invited_by_id == user.id)
    return list(db_session().scalars(query))


def revoke(user: User, invitation_id: int) -> Invitation:
    """Revoke an unused invitation the user sees (audited); 404 for one they do not see."""
    session = db_session()
    found = session.get(Invitation, invitation_id) if 0 < invitation_id <= ID_MAX else None
    if found is None or not (user.is_admin or found.invited_by_id == user.id):
        raise NotFound(NO_SUCH_INVITATION)
    if found.used_at is not None:
        raise Conflict("the invitation was accepted already", "invitation-used")
    if found.revoked_at is not None:
        raise Conflict("the invitation is revoked already", "invitation-revoked")
    found.revoked_at = utcnow()
    audit.record(user, "invitation.revoke", f"invitation/{found.id}", email=found.email)
    session.commit()
    return found


def usable_invitation(token: str) -> Invitation | None:
    """The invitation of this token while it may still be accepted."""
    return usable_link(Invitation, token)


def accept(token: str, password: str, repeated: str) -> User:
    """Create the invitee's account with the invitation, in one transaction, and use it up.

    Bad input raises InvalidAccountField or WeakPassword and writes nothing; a link that may
    not (or no longer) be used raises InvitationUnusable and writes nothing.
    """
    invitation = usable_invitation(token)
    if invitation is None:
        raise InvitationUnusable()
    if password != repeated:
        raise InvalidAccountField("password", "the two passwords differ")
    check_password_rules(password, email=invitation.email)
    session = db_session()
    try:
        if not claim_link(Invitation, invitation):
            raise InvitationUnusable()
        audit.record(
            None, "invitation.accept", f"invitation/{invitation.id}", email=invitation.email
        )
        # add_user commits: the link's use, the audit entry and the account, together.
        return add_user(invitation.email, password, invitation.role, invitation.party.code)
    except (AccountRefused, InvitationUnusable):
        session.rollback()
        raise


def invitation_payload(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "email": invitation.email,
        "party": invitation.party.code,
        "role": invitation.role,
        "invited_by": invitation.invited_by.email if invitation.invited_by else None,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }
