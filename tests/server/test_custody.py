"""Self-custody parties: added without keys, their recipients, and what the server refuses."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from server.cli import main
from server.db import db_session
from server.models import Party
from tests.support.api import server_cli


def run(app: Flask, *args: str) -> Any:
    data = str(app.extensions["peerlex.config"].data_dir)
    return server_cli(app).invoke(main, ["--data", data, *args])


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
