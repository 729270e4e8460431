"""Users' own SSH public keys: registered, listed, revoked, and published per party.

A key is registered for the party and role its owner has at that moment, and is never deleted:
revoking it sets its valid_before, so what it signed before stays verifiable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from keys.ssh_keys import InvalidPublicKey, parse_public_key_line
from server.characters import single_line_refusal
from server.db import db_session
from server.models import User, UserKey, utcnow
from server.permissions import key_membership
from server.services import audit
from server.services.errors import Conflict, Invalid, NotFound
from server.services.parties import find_party

MAX_COMMENT = 200


def _refuse(detail: str) -> Invalid:
    return Invalid(detail, "invalid-public-key", errors={"public_key": [detail]})


def register_key(user: User, data: dict[str, Any]) -> UserKey:
    """Register one OpenSSH public key line for the user's party (audited)."""
    party, role = key_membership(user, data.get("party"))
    try:
        key = parse_public_key_line(data["public_key"])
    except InvalidPublicKey as exc:
        raise _refuse(str(exc)) from exc
    refusal = single_line_refusal(key.comment)
    if refusal is not None:
        raise _refuse(f"the comment {refusal}")
    if len(key.comment) > MAX_COMMENT:
        raise _refuse(f"the comment is longer than {MAX_COMMENT} characters")
    session = db_session()
    if session.scalar(select(UserKey.id).where(UserKey.fingerprint == key.fingerprint)):
        # One key belongs to one person, and a revoked key is never registered again.
        raise Conflict("this key is already registered", "key-registered")
    row = UserKey(
        user_id=user.id,
        party_id=party.id,
        role=role.value,
        key_type=key.key_type,
        public_key=key.line(),
        fingerprint=key.fingerprint,
        comment=key.comment,
        valid_after=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        user, "key.add", f"{party.code}/{key.fingerprint}", role=role.value, type=key.key_type
    )
    session.commit()
    session.refresh(row)
    return row


def own_keys(user: User) -> list[UserKey]:
    """Every key the user registered, revoked ones included, oldest first."""
    query = select(UserKey).where(UserKey.user_id == user.id).order_by(UserKey.id)
    return list(db_session().scalars(query))


def revoke_key(user: User, fingerprint: str) -> UserKey:
    """End one of the user's keys now (audited); it stays published with its valid_before."""
    session = db_session()
    row = session.scalar(
        select(UserKey).where(UserKey.fingerprint == fingerprint, UserKey.user_id == user.id)
    )
    if row is None:
        raise NotFound("no such key of yours")
    if row.valid_before is not None:
        raise Conflict(
            "this key is already revoked",
            "key-revoked",
            valid_before=row.valid_before.isoformat(),
        )
    row.valid_before = utcnow()
    row.revoked_by_id = user.id
    audit.record(user, "key.revoke", f"{row.party.code}/{fingerprint}")
    session.commit()
    session.refresh(row)
    return row


def party_keys(code: str) -> list[UserKey]:
    """A party's public key history: every key its members registered, oldest first.

    Keys are public, as the allowed_signers that carries them is: any signed-in user reads them.
    """
    party = find_party(code)
    query = select(UserKey).where(UserKey.party_id == party.id).order_by(UserKey.id)
    return list(db_session().scalars(query))


def published_keys(codes: list[str] | None) -> list[UserKey]:
    """The keys of these parties (default: of every party), for allowed_signers."""
    rows = db_session().scalars(select(UserKey).order_by(UserKey.id))
    return [row for row in rows if codes is None or row.party.code in codes]
