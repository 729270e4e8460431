"""Offline age recipients: an organisation's (final bundles' attachments are encrypted to them)
and a self-custody State's (its attachments are)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from keys.age import AgeError, parse_recipient
from server.db import db_session
from server.models import OfflineRecipient, User
from server.permissions import is_member, may_manage_recipients
from server.services import audit
from server.services.errors import Forbidden, Invalid, NotFound
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
