"""Administering accounts: role, disabling and enabling, ending sessions, resetting second
factors, each audited; the one code path of the administration pages and `peerlex-server user`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, func, select

from repo_store.names import PARTY_CODE
from server.db import db_session
from server.models import (
    ApiToken,
    Membership,
    MfaFactor,
    Party,
    Role,
    User,
    UserKey,
    UserSession,
    utcnow,
)
from server.permissions import fits_party, key_namespaces
from server.services import audit
from server.services.context import services
from server.services.mfa import reset_second_factors
from server.services.sessions import end_every_session
from server.services.users import (
    ADMIN,
    AccountRefused,
    InvalidAccountField,
    check_user_fields,
    normalise_email,
)


class NoSuchUser(AccountRefused):
    """No account has this email address (or id)."""


class NoSuchParty(AccountRefused):
    """No party has this code."""


class LastAdmin(AccountRefused):
    """The act would leave the deployment without an enabled administrator."""


@dataclass(frozen=True)
class AccountRow:
    """What the users page shows of an account: never anything of a document."""

    user: User
    party: str
    role: str
    second_factor: bool
    sessions: int  # current cookie sessions and unexpired API tokens


def role_of(user: User) -> str:
    """The account's role: admin, or its memberships' roles (one, as accounts are made)."""
    if user.is_admin:
        return ADMIN
    return ", ".join(sorted({m.role for m in user.memberships})) or "—"


def find_user(email: str) -> User:
    """The account with this email address, or NoSuchUser."""
    email = normalise_email(email)
    found = db_session().scalar(select(User).where(User.email == email))
    if found is None:
        raise NoSuchUser(f"no user {email}")
    return found


def find_user_by_id(user_id: int) -> User:
    found = db_session().get(User, user_id)
    if found is None:
        raise NoSuchUser(f"no user {user_id}")
    return found


def _refuse_last_admin(user: User) -> None:
    """Refuse taking away the last enabled administrator: no one could administer again."""
    if not (user.is_admin and user.active):
        return
    others = db_session().scalar(
        select(func.count(User.id)).where(User.is_admin, User.active, User.id != user.id)
    )
    if not others:
        raise LastAdmin(f"{user.email} is the last enabled administrator: make another first")


def set_role(user: User, role: str, party_code: str | None, actor: User | None) -> None:
    """Give the account role, in party_code (default: its present party), and commit.

    An administrator belongs to no party: becoming one ends the account's memberships.
    """
    check_user_fields(user.email, user.name, role)
    session = db_session()
    before = role_of(user)
    if role == ADMIN:
        user.memberships.clear()
        user.is_admin = True
    else:
        codes = sorted(user.party_codes())
        code = party_code or (codes[0] if len(codes) == 1 else "")
        if not code:
            raise InvalidAccountField("party", f"name the party the {role} belongs to")
        # A malformed code names no party and is not sent to the database.
        party = (
            session.scalar(select(Party).where(Party.code == code))
            if PARTY_CODE.fullmatch(code)
            else None
        )
        if party is None:
            raise NoSuchParty(f"no party {code}")
        if not fits_party(Role(role), party):
            message = f"role {role} does not fit a party of kind {party.kind}"
            raise InvalidAccountField("role", message)
        _refuse_last_admin(user)
        user.is_admin = False
        user.memberships.clear()
        session.flush()
        user.memberships.append(Membership(party=party, role=role))
    audit.record(actor, "user.role", user.email, role=role, was=before, party=party_code or "")
    _end_keys_beyond_role(user, actor)
    session.commit()


def _end_keys_beyond_role(user: User, actor: User | None) -> None:
    """Revoke the account's SSH keys that now sign beyond its role (audited): those of a party it
    left, and those whose role signed in more namespaces (a head's key of a former head)."""
    session = db_session()
    session.flush()
    signs = {m.party_id: set(key_namespaces(m.role)) for m in user.memberships}
    live = select(UserKey).where(UserKey.user_id == user.id, UserKey.valid_before.is_(None))
    for key in session.scalars(live):
        if set(key_namespaces(key.role)) <= signs.get(key.party_id, set()):
            continue
        key.valid_before = utcnow()
        key.revoked_by_id = actor.id if actor is not None else None
        audit.record(actor, "key.revoke", f"{key.party.code}/{key.fingerprint}", why="role")


def set_enabled(user: User, enabled: bool, actor: User | None) -> None:
    """Enable or disable the account, and commit; disabling ends its sessions and API tokens."""
    if not enabled:
        _refuse_last_admin(user)
        end_every_session(user)
    user.active = enabled
    audit.record(actor, "user.enable" if enabled else "user.disable", user.email)
    db_session().commit()


def end_sessions(user: User, actor: User | None) -> None:
    """End every session and API token of the account (it signs in again), and commit."""
    end_every_session(user)
    audit.record(actor, "user.sessions.end", user.email)
    db_session().commit()


def reset_factors(user: User, actor: User | None, operator: str) -> int:
    """Remove the account's second factors and recovery codes (it enrols again); commits."""
    return reset_second_factors(user, operator, actor)


def _counts(query: Select[int, int]) -> dict[int, int]:
    return {user_id: count for user_id, count in db_session().execute(query)}


def account_rows() -> list[AccountRow]:
    """Every account, by email, with what an administrator needs to see of it."""
    now, config = utcnow(), services().config
    # Current sessions: open, within the idle and the absolute limit (server/signin.py).
    sessions = _counts(
        select(UserSession.user_id, func.count(UserSession.id))
        .where(
            UserSession.revoked_at.is_(None),
            UserSession.created_at > now - timedelta(hours=config.session_max_hours),
            func.coalesce(UserSession.last_seen_at, UserSession.created_at)
            > now - timedelta(minutes=config.session_idle_minutes),
        )
        .group_by(UserSession.user_id)
    )
    tokens = _counts(
        select(ApiToken.user_id, func.count(ApiToken.id))
        .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .group_by(ApiToken.user_id)
    )
    factors = set(
        db_session().scalars(
            select(MfaFactor.user_id).where(MfaFactor.confirmed_at.is_not(None)).distinct()
        )
    )
    return [
        AccountRow(
            user=user,
            party=", ".join(sorted(user.party_codes())) or "—",
            role=role_of(user),
            second_factor=user.id in factors,
            sessions=sessions.get(user.id, 0) + tokens.get(user.id, 0),
        )
        for user in db_session().scalars(select(User).order_by(User.email))
    ]
