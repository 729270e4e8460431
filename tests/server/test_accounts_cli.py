"""`peerlex-server party add|rename` and `user role|disable|enable|end-sessions`: the same rules
and audit entries as the administration pages, and a refusal that changes nothing."""

from __future__ import annotations

from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from server.cli import main
from server.db import db_session
from server.models import AuditEntry, Party, User
from tests.server.review_fixtures import ReviewWorld
from tests.support.accounts import PASSWORD
from tests.support.api import server_cli


def run(app: Flask, *args: str) -> Result:
    data = str(app.extensions["peerlex.config"].data_dir)
    return server_cli(app).invoke(main, ["--data", data, *args])


def state(app: Flask) -> tuple[Any, ...]:
    """Parties, accounts and their roles, and the audit log's length."""
    with app.app_context():
        session = db_session()
        parties = tuple(session.execute(select(Party.code, Party.name)).all())
        users = tuple(
            (u.email, u.is_admin, u.active, sorted((m.party.code, m.role) for m in u.memberships))
            for u in session.scalars(select(User).order_by(User.id))
        )
        return parties, users, session.scalar(select(func.count(AuditEntry.id)))


def last_audit(app: Flask) -> tuple[str | None, str, str]:
    with app.app_context():
        entry = db_session().scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None
        return entry.user_email, entry.action, entry.target


def test_party_add_and_rename_are_audited(app: Flask, review_world: ReviewWorld) -> None:
    added = run(app, "party", "add", "AZE", "--name", "Azerbaijan", "--kind", "state")
    assert added.exit_code == 0, added.output
    assert last_audit(app) == (None, "party.add", "AZE")
    renamed = run(app, "party", "rename", "AZE", "--name", "Republic of Azerbaijan")
    assert renamed.exit_code == 0, renamed.output
    assert "renamed" in renamed.output
    assert last_audit(app) == (None, "party.rename", "AZE")
    with app.app_context():
        party = db_session().scalar(select(Party).where(Party.code == "AZE"))
        assert party is not None
        assert party.name == "Republic of Azerbaijan"


def test_bad_party_commands_change_nothing(app: Flask, review_world: ReviewWorld) -> None:
    before = state(app)
    for args, message in [
        (("party", "rename", "ZZZ", "--name", "Nowhere"), "no party ZZZ"),
        (("party", "rename", "BLR", "--name", ""), "1-200 characters"),
        (("party", "rename", "BLR", "--name", "Evil\u202eState"), "bidirectional"),
        (("party", "add", "BLR", "--name", "Again", "--kind", "state"), "exists already"),
        (("party", "add", "AZE", "--name", "", "--kind", "state"), "1-200 characters"),
    ]:
        result = run(app, *args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert state(app) == before


def test_user_role_disable_enable_end_sessions(app: Flask, review_world: ReviewWorld) -> None:
    outsider = review_world["outsider"]
    role = run(app, "user", "role", "expert@uzb.example", "head")
    assert role.exit_code == 0, role.output
    assert last_audit(app) == (None, "user.role", "expert@uzb.example")
    assert outsider.get("/api/v1/me").json["memberships"] == [{"party": "UZB", "role": "head"}]
    ended = run(app, "user", "end-sessions", "expert@uzb.example")
    assert ended.exit_code == 0, ended.output
    assert last_audit(app) == (None, "user.sessions.end", "expert@uzb.example")
    assert outsider.get("/api/v1/me").status_code == 401
    disabled = run(app, "user", "disable", "Expert@UZB.example")
    assert disabled.exit_code == 0, disabled.output
    assert last_audit(app) == (None, "user.disable", "expert@uzb.example")
    refused = app.test_client().post(
        "/api/v1/auth/tokens",
        json={"email": "expert@uzb.example", "password": PASSWORD},
    )
    assert refused.status_code == 401
    enabled = run(app, "user", "enable", "expert@uzb.example")
    assert enabled.exit_code == 0, enabled.output
    assert last_audit(app) == (None, "user.enable", "expert@uzb.example")
    again = app.test_client().post(
        "/api/v1/auth/tokens",
        json={"email": "expert@uzb.example", "password": PASSWORD},
    )
    assert again.status_code == 201


def test_bad_user_commands_change_nothing(app: Flask, review_world: ReviewWorld) -> None:
    before = state(app)
    for args, message in [
        (("user", "role", "no@one.example", "expert"), "no user no@one.example"),
        (("user", "role", "expert@uzb.example", "boss"), "Invalid value"),
        (("user", "role", "expert@uzb.example", "organiser"), "does not fit"),
        (("user", "role", "expert@uzb.example", "head", "--party", "ZZZ"), "no party ZZZ"),
        (("user", "role", "admin@peerlex.example", "expert", "--party", "UZB"), "last enabled"),
        (("user", "disable", "admin@peerlex.example"), "last enabled administrator"),
        (("user", "disable", "no@one.example"), "no user"),
        (("user", "enable", "no@one.example"), "no user"),
        (("user", "end-sessions", "no@one.example"), "no user"),
    ]:
        result = run(app, *args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert state(app) == before
