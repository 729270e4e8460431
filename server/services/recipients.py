"""Offline age recipients: an organisation's (final bundles' attachments are encrypted to them)
and a self-custody State's (its attachments are)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import select

from keys.age import AgeError, parse_recipient
from server.db import db_session
from server.models import OfflineRecipient, Party, User
from server.permissions import is_member, may_manage_recipients
from server.services import audit
from server.services.context import services
from server.services.errors import Conflict, Forbidden, Invalid, NotFound
from server.services.parties import find_party


def add_recipient(user: User, code: str, data: dict[str, Any]) -> OfflineRecipient:
    """Register an age recipient for an organisation (its organisers) or a self-custody State
    (its experts and heads)."""
    party = find_party(code)
    if not is_member(user, code):
        raise NotFound("no such party, or you are not a member")
    if not may_manage_recipients(user, party):
        raise Forbidden(
            "organisers register their organisation's offline recipients, and the experts and "
            "heads of a State holding its own keys the State's"
        )
    try:
        parse_recipient(data["recipient"])
    except AgeError as exc:
        raise Invalid(
            "not an age X25519 recipient",
            "invalid-recipient",
            errors={"recipient": [str(exc)]},
        ) from exc
    session = db_session()
    existing = session.scalar(
        select(OfflineRecipient).where(
            OfflineRecipient.party_id == party.id, OfflineRecipient.recipient == data["recipient"]
        )
    )
    if existing is not None:
        return existing
    row = OfflineRecipient(
        party_id=party.id, recipient=data["recipient"], label=data["label"], added_by_id=user.id
    )
    session.add(row)
    session.flush()
    audit.record(user, "recipient.add", f"{code}/{data['recipient']}")
    session.commit()
    session.refresh(row)
    return row


def list_recipients(user: User, code: str) -> list[OfflineRecipient]:
    """Public recipients of an organisation or a self-custody State, for its members."""
    party = find_party(code)
    if not is_member(user, code):
        raise NotFound("no such party, or you are not a member")
    rows = db_session().scalars(
        select(OfflineRecipient)
        .where(OfflineRecipient.party_id == party.id)
        .order_by(OfflineRecipient.id)
    )
    return list(rows)


def recipients_of(codes: list[str]) -> list[str]:
    """Every offline recipient registered by these organisations, sorted."""
    rows = db_session().scalars(select(OfflineRecipient))
    return sorted({row.recipient for row in rows if row.party.code in codes})


def registered_recipients(party: Party) -> list[str]:
    """The age recipients a party registered, oldest first."""
    rows = db_session().scalars(
        select(OfflineRecipient.recipient)
        .where(OfflineRecipient.party_id == party.id)
        .order_by(OfflineRecipient.id)
    )
    return list(rows)


def encryption_recipients(code: str) -> list[X25519PublicKey]:
    """The keys a party's copy of an attachment is encrypted to.

    A party whose keys the server holds reads with its current server key; a party that holds
    its own keys reads with the identities behind the age recipients its people registered,
    which never reach the server (docs/attachments.md).
    """
    party = find_party(code)
    if not party.holds_own_keys:
        return [services().keys.encryption_public_key(code)]
    registered = registered_recipients(party)
    if not registered:
        raise Conflict(
            f"{code} holds its own keys and has registered no age recipient to encrypt its "
            "attachments to; its experts or heads register one first",
            "no-party-recipient",
            party=code,
        )
    return [parse_recipient(line) for line in registered]
