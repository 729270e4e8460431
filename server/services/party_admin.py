"""Administering parties: renaming one (audited), and what the parties page shows of each —
its custody and the public keys it signs and reads with; never a document."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from repo_store.names import InvalidName, check_party
from server.db import db_session
from server.models import OfflineRecipient, Party, User, UserKey
from server.services import audit
from server.services.context import services
from server.services.user_admin import NoSuchParty
from server.services.users import add_party, check_party_name


@dataclass(frozen=True)
class SigningKey:
    """One of a party's server-held signing keys, by fingerprint, current or retired."""

    fingerprint: str
    created_at: datetime
    valid_before: datetime | None


@dataclass
class PartyKeys:
    """A party and the public keys it is known by."""

    party: Party
    signing: list[SigningKey] = field(default_factory=list)
    delegate_keys: list[UserKey] = field(default_factory=list)
    recipients: list[OfflineRecipient] = field(default_factory=list)


def find_party_by_code(code: str) -> Party:
    """The party with this code, or NoSuchParty (a malformed code names none)."""
    try:
        check_party(code)
    except InvalidName as exc:
        raise NoSuchParty(f"no party {code}") from exc
    found = db_session().scalar(select(Party).where(Party.code == code))
    if found is None:
        raise NoSuchParty(f"no party {code}")
    return found


def create_party(code: str, name: str, kind: str, custody: str, actor: User | None) -> Party:
    """Add a party as an administrator does (page or `party add`): audited, then committed."""
    return add_party(code, name, kind, custody, audited=True, actor=actor)


def rename_party(code: str, name: str, actor: User | None) -> Party:
    """Give the party a new name, and commit. Its code, keys and history stay as they are."""
    check_party_name(name)
    party = find_party_by_code(code)
    before = party.name
    party.name = name
    audit.record(actor, "party.rename", code, name=name, was=before)
    db_session().commit()
    return party


def parties_with_keys() -> list[PartyKeys]:
    """Every party by code, with its signing keys, its people's SSH keys and age recipients."""
    session, keys = db_session(), services().keys
    found = {party.id: PartyKeys(party) for party in session.scalars(select(Party))}
    for entry in found.values():
        if keys.has_keys(entry.party.code):
            entry.signing = [
                SigningKey(key.fingerprint, key.created_at, key.valid_before)
                for key in keys.verifying_keys(entry.party.code)
            ]
    for user_key in session.scalars(select(UserKey).order_by(UserKey.valid_after)):
        found[user_key.party_id].delegate_keys.append(user_key)
    for recipient in session.scalars(select(OfflineRecipient).order_by(OfflineRecipient.id)):
        found[recipient.party_id].recipients.append(recipient)
    return sorted(found.values(), key=lambda entry: entry.party.code)
