"""Users and parties: adding them (with their keys and repository), and what the API says about
the caller and the parties it knows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from keys.merkle import DEPLOYMENT_PARTY
from repo_store.names import InvalidName, check_party
from server.characters import single_line_refusal
from server.db import db_session
from server.models import Custody, Membership, Party, PartyKind, Role, User
from server.passwords import hash_password
from server.permissions import fits_party
from server.services import audit
from server.services.context import services

# A deployment administrator belongs to no party; every other role is a membership.
ADMIN = "admin"
USER_ROLES = (*(role.value for role in Role), ADMIN)
MAX_PARTY_NAME = 200  # the column's width


class AccountRefused(ValueError):
    """A party or user cannot be added as asked (it exists, or does not fit what exists)."""


class PartyExists(AccountRefused):
    """A party with this code exists already."""


class InvalidAccountField(AccountRefused):
    """One of the values given for a new party or user is malformed; field names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _single_line(field: str, value: str) -> None:
    refusal = single_line_refusal(value)
    if refusal is not None:
        raise InvalidAccountField(field, refusal)


def check_party_fields(code: str, name: str, kind: str, custody: str = Custody.SERVER) -> None:
    """Refuse a malformed party code, name, kind or custody, before anything is made."""
    try:
        check_party(code)
    except InvalidName as exc:
        message = "use 2-16 upper-case letters or digits, e.g. BLR"
        raise InvalidAccountField("code", message) from exc
    if code == DEPLOYMENT_PARTY:
        raise InvalidAccountField("code", f"{code} is reserved for the deployment's own key")
    check_party_name(name)
    if kind not in {k.value for k in PartyKind}:
        raise InvalidAccountField("kind", f"a party is a {' or an '.join(PartyKind)}")
    if custody not in {c.value for c in Custody}:
        raise InvalidAccountField("custody", f"custody is {' or '.join(Custody)}")
    # An organisation signs final bundles with a key the server holds (docs/decisions.md).
    if custody == Custody.SELF and kind == PartyKind.ORGANISATION:
        raise InvalidAccountField("custody", "only a State holds its own keys")


def check_party_name(name: str) -> None:
    """Refuse an empty, overlong or multi-line party name."""
    if not name.strip() or len(name) > MAX_PARTY_NAME:
        raise InvalidAccountField("name", f"a party's name has 1-{MAX_PARTY_NAME} characters")
    _single_line("name", name)


def normalise_email(email: str) -> str:
    """The form an email address is stored and signed in with."""
    return email.strip().lower()


def check_user_fields(email: str, name: str, role: str) -> None:
    """Refuse a malformed (normalised) email address, display name or role."""
    if "@" not in email or any(c in email for c in "<> \n\r\t"):
        raise InvalidAccountField("email", "not an email address")
    _single_line("email", email)
    _single_line("name", name)
    if role not in USER_ROLES:
        raise InvalidAccountField("role", f"a role is one of {', '.join(USER_ROLES)}")


def add_party(
    code: str,
    name: str,
    kind: str,
    custody: str = Custody.SERVER,
    *,
    audited: bool = False,
    actor: User | None = None,
) -> Party:
    """Add a party with its repository, and commit; a custodial one also gets its keys.

    Runs in an app context; when audited (party_admin.create_party), recorded as done by actor
    (None: the server's command line). Keys
    already on disk for code (a party added before and lost from the database) are kept, so
    that what they signed still verifies. A self-custody party gets no key at all: its people
    register their own SSH keys and age recipients.
    """
    check_party_fields(code, name, kind, custody)
    session = db_session()
    if session.scalar(select(Party).where(Party.code == code)) is not None:
        raise PartyExists(f"party {code} exists already")
    found = services()
    if custody == Custody.SERVER and not found.keys.has_keys(code):
        found.keys.create(code)
    found.store.create_repository(code)
    party = Party(code=code, name=name, kind=kind, custody=custody)
    session.add(party)
    if audited:
        audit.record(actor, "party.add", code, name=name, kind=kind, custody=str(custody))
    session.commit()
    return party


def add_user(
    email: str, password: str, role: str, party_code: str | None = None, name: str = ""
) -> User:
    """Add a user with role in party_code (none for an admin), and commit.

    Runs in an app context. The password is hashed with the deployment's scrypt cost; whether
    it is strong enough is the caller's question (passwords.check_password_rules).
    """
    email = normalise_email(email)
    check_user_fields(email, name, role)
    session = db_session()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AccountRefused(f"user {email} exists already")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password, services().config.scrypt_n),
        is_admin=role == ADMIN,
    )
    if role != ADMIN:
        if not party_code:
            raise AccountRefused(f"a party is needed for role {role}")
        party = session.scalar(select(Party).where(Party.code == party_code))
        if party is None:
            raise AccountRefused(f"no party {party_code}")
        if not fits_party(Role(role), party):
            raise AccountRefused(f"role {role} does not fit a party of kind {party.kind}")
        user.memberships.append(Membership(party=party, role=role))
    session.add(user)
    session.commit()
    return user


def me_payload(user: User, csrf_token: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "email": user.email,
        "name": user.name,
        "is_admin": user.is_admin,
        "memberships": [
            {"party": m.party.code, "role": m.role}
            for m in sorted(user.memberships, key=lambda m: m.party.code)
        ],
    }
    if csrf_token is not None:
        payload["csrf_token"] = csrf_token
    return payload


def list_parties() -> list[Party]:
    """Every party: codes and names are not secret among the users of a deployment."""
    return list(db_session().scalars(select(Party).order_by(Party.code)))
