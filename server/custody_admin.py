"""Switching a State to self-custody: its attachments re-wrapped to its own recipients, then the
server's copies of its private keys destroyed (docs/decisions.md, "Switching to self-custody")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click
from flask import Flask
from sqlalchemy import or_, select

from keys.age import AgeError, parse_recipient
from keys.party_keys import KeyStoreError
from server.db import db_session
from server.keys_admin import rewrap_for_current_keys
from server.models import (
    Custody,
    OfflineRecipient,
    Party,
    PartyKind,
    User,
    UserKey,
    utcnow,
)
from server.permissions import STATE_KEY_HOLDERS, holds_state_keys
from server.services import audit
from server.services.context import services
from server.services.errors import DomainError
from server.services.recipients import registered_recipients
from server.services.users import normalise_email


class CustodyRefused(Exception):
    """The party cannot take custody of its own keys yet; the message says what is missing."""


@dataclass
class CustodySwitch:
    """What switching a party to self-custody did."""

    rewrapped: int = 0
    waiting: list[str] = field(default_factory=list)
    retired_at: datetime | None = None


def signing_keys_of(party: Party) -> int:
    """How many unrevoked SSH keys the party's experts and heads registered."""
    now = utcnow()
    rows = db_session().scalars(
        select(UserKey.id).where(
            UserKey.party_id == party.id,
            UserKey.role.in_([role.value for role in STATE_KEY_HOLDERS]),
            or_(UserKey.valid_before.is_(None), UserKey.valid_before > now),
        )
    )
    return len(list(rows))


def _refusal(party: Party | None, code: str, handed_over: int) -> str | None:
    if party is None:
        return f"no party {code}"
    if party.holds_own_keys:
        return f"{code} holds its own keys already"
    if party.kind != PartyKind.STATE:
        return f"{code} is an organisation: only a State holds its own keys (docs/decisions.md)"
    missing = []
    if not signing_keys_of(party):
        missing.append("an unrevoked SSH key registered by one of its experts or heads")
    if not registered_recipients(party) and not handed_over:
        missing.append("an age recipient registered by one of its experts or heads")
    if missing:
        return f"{code} keeps its server-held keys until it has {' and '.join(missing)}"
    return None


@dataclass(frozen=True)
class HandedOver:
    """Age recipients a State's expert or head handed to the administrator for the switch."""

    recipients: tuple[str, ...]
    by_email: str | None


def _handing_over(party: Party | None, given: HandedOver) -> User | None:
    """Check the recipients handed over and who gave them, before anything is written."""
    if not given.recipients:
        return None
    for line in given.recipients:
        try:
            parse_recipient(line)
        except AgeError as exc:
            raise CustodyRefused(f"{line!r} is not an age X25519 recipient: {exc}") from exc
    if party is None:
        return None
    user = db_session().scalar(
        select(User).where(User.email == normalise_email(given.by_email or ""))
    )
    if user is None or not holds_state_keys(user, party):
        raise CustodyRefused(
            f"--recipient needs --from, the email of the expert or head of {party.code} who "
            "handed the recipient over"
        )
    return user


def _register_handed_over(party: Party, given: HandedOver, user: User) -> None:
    known = set(registered_recipients(party))
    for line in dict.fromkeys(given.recipients):
        if line in known:
            continue
        db_session().add(
            OfflineRecipient(
                party_id=party.id, recipient=line, label="handed over", added_by_id=user.id
            )
        )
        audit.record(None, "recipient.add", f"{party.code}/{line}", handed_over_by=user.email)
    db_session().flush()


def switch_to_self_custody(code: str, given: HandedOver = HandedOver((), None)) -> CustodySwitch:
    """Hand a State's custody of its keys to its own people, in an order that loses nothing.

    Runs in an app context. Recipients handed over are registered first, once nothing else
    stands in the way. Then every attachment the State reads is re-wrapped so that its
    registered recipients replace its server key (the commits signed, as always, by the owner's
    server key, the State's own still among them); then the State's private keys are destroyed,
    their public halves kept with valid-before so earlier history verifies; then the party is
    marked as holding its own keys, and the change audited. Run again after a failure, it picks
    up where it stopped.
    """
    session = db_session()
    party = session.scalar(select(Party).where(Party.code == code))
    giver = _handing_over(party, given)
    refusal = _refusal(party, code, len(given.recipients))
    if refusal is not None or party is None:
        raise CustodyRefused(refusal)
    if giver is not None:
        _register_handed_over(party, given, giver)
    keys = services().keys
    done = CustodySwitch()
    if not keys.is_retired(code):
        own = [parse_recipient(line) for line in registered_recipients(party)]
        rewrapped = rewrap_for_current_keys(
            code, f"as {code} takes custody of its own keys", own_keys=own
        )
        done.rewrapped, done.waiting = rewrapped.changed, rewrapped.waiting
        done.retired_at = keys.retire(code) if keys.has_keys(code) else None
    party.custody = Custody.SELF
    audit.record(
        None,
        "party.custody",
        code,
        custody=Custody.SELF.value,
        rewrapped=done.rewrapped,
        waiting=done.waiting,
    )
    session.commit()
    return done


def register(party_group: click.Group, app_for: Any) -> None:
    """Add `party set-custody` to the peerlex-server command line."""

    @party_group.command("set-custody")
    @click.argument("code")
    @click.argument("custody", type=click.Choice([Custody.SELF.value]))
    @click.option(
        "--recipient",
        "recipients",
        multiple=True,
        help="An age recipient (age1...) of the State, handed over by one of its people.",
    )
    @click.option(
        "--from",
        "by_email",
        help="The email of the State's expert or head who handed the recipients over.",
    )
    @click.pass_context
    def set_custody(
        ctx: click.Context,
        code: str,
        custody: str,
        recipients: tuple[str, ...],
        by_email: str | None,
    ) -> None:
        """Hand a State's keys to its own people: re-wrap, then destroy the server's copies."""
        app: Flask = app_for(ctx)
        with app.app_context():
            try:
                done = switch_to_self_custody(code, HandedOver(recipients, by_email))
            except (CustodyRefused, KeyStoreError, DomainError) as exc:
                raise click.ClickException(str(exc)) from exc
        click.echo(
            f"{code} now holds its own keys; {done.rewrapped} attachment(s) re-wrapped to its "
            "recipients; the server's copies of its private keys are destroyed"
        )
        for name in done.waiting:
            click.echo(f"waiting for its owner to re-wrap it: {name}")
