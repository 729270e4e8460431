"""Self-custody parties: added without keys, their recipients, and what the server refuses."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from server.db import db_session
from server.models import AuditEntry, OfflineRecipient, Party
from tests.server.custody_fixtures import CustodyWorld, run


def _party(app: Flask, code: str) -> Party | None:
    with app.app_context():
        return db_session().scalar(select(Party).where(Party.code == code))


def test_a_self_custody_state_is_added_without_any_key(app: Flask) -> None:
    result = run(
        app, "party", "add", "TKM", "--name", "Turkmenistan", "--kind", "state", "--custody", "self"
    )
    assert result.exit_code == 0, result.output
    assert "SSH keys" in result.output
    assert "age recipients" in result.output
    config = app.extensions["peerlex.config"]
    assert not (config.data_dir / "keys" / "TKM.json").exists()
    assert app.extensions["peerlex.services"].store.path("TKM").exists()
    party = _party(app, "TKM")
    assert party is not None
    assert party.holds_own_keys


def test_custody_defaults_to_the_server(app: Flask) -> None:
    result = run(app, "party", "add", "BLR", "--name", "Belarus", "--kind", "state")
    assert result.exit_code == 0, result.output
    assert "signing key SHA256:" in result.output
    party = _party(app, "BLR")
    assert party is not None
    assert not party.holds_own_keys
    assert (app.extensions["peerlex.config"].data_dir / "keys" / "BLR.json").exists()


def test_an_organisation_cannot_hold_its_own_keys(app: Flask) -> None:
    result = run(
        app, "party", "add", "OSCE", "--name", "OSCE", "--kind", "organisation", "--custody", "self"
    )
    assert result.exit_code == 2, result.output
    assert "--custody" in result.output
    assert _party(app, "OSCE") is None
    assert not (app.extensions["peerlex.config"].data_dir / "keys" / "OSCE.json").exists()


# -- a self-custody State's age recipients -----------------------------------------------------

RECIPIENTS = "/api/v1/parties/{}/recipients"


def _recipient_rows(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db_session().scalars(select(OfflineRecipient).order_by(OfflineRecipient.id))
        return [(row.party.code, row.recipient) for row in rows]


@pytest.mark.parametrize("role", ["self_expert", "self_head"])
def test_experts_and_heads_register_their_states_recipients(
    app: Flask, custody_world: CustodyWorld, role: str
) -> None:
    body = {"recipient": custody_world.recipient, "label": "delegation laptop"}
    made = custody_world[role].post(RECIPIENTS.format("TKM"), json=body)
    assert made.status_code == 201, made.json
    listed = custody_world["self_expert"].get(RECIPIENTS.format("TKM"))
    assert [r["recipient"] for r in listed.json] == [custody_world.recipient]
    assert _recipient_rows(app) == [("TKM", custody_world.recipient)]
    with app.app_context():
        actions = db_session().scalars(select(AuditEntry.action).where(AuditEntry.outcome == "ok"))
        assert "recipient.add" in list(actions)


@pytest.mark.parametrize(
    ("role", "code", "status"),
    [
        ("own", "BLR", 403),  # a State whose keys the server holds has no recipients of its own
        ("head", "BLR", 403),
        ("own", "TKM", 404),  # not a member
        ("organiser", "TKM", 404),
        ("admin", "TKM", 404),
    ],
)
def test_others_may_not_register_recipients(
    app: Flask, custody_world: CustodyWorld, role: str, code: str, status: int
) -> None:
    body = {"recipient": custody_world.recipient, "label": "laptop"}
    assert custody_world[role].post(RECIPIENTS.format(code), json=body).status_code == status
    assert _recipient_rows(app) == []


def test_organisers_still_register_their_organisations_recipients(
    app: Flask, custody_world: CustodyWorld
) -> None:
    body = {"recipient": custody_world.recipient, "label": "vault"}
    made = custody_world["organiser"].post(RECIPIENTS.format("UNRCPD"), json=body)
    assert made.status_code == 201, made.json
    assert _recipient_rows(app) == [("UNRCPD", custody_world.recipient)]


@pytest.mark.parametrize(
    "recipient",
    ["age1" + "q" * 10, "AGE-SECRET-KEY-1" + "Q" * 58, "ssh-ed25519 AAAA", "", "age1\x00"],
)
def test_a_bad_recipient_is_refused_and_nothing_written(
    app: Flask, custody_world: CustodyWorld, recipient: str
) -> None:
    body = {"recipient": recipient, "label": "laptop"}
    answer = custody_world["self_expert"].post(RECIPIENTS.format("TKM"), json=body)
    assert 400 <= answer.status_code < 500, answer.json
    assert _recipient_rows(app) == []
