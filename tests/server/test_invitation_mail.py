"""Invitations mailed where a mail server is configured (PEERLEX_SMTP_URL), to a real SMTP
server on a local port: the link and who invites, nothing more; a failure loses nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from server.app import create_app
from server.config import Config, parse_smtp_url
from server.db import db_session
from server.link_models import Invitation
from tests.support.accounts import add_party, add_user
from tests.support.api import Api, token_for
from tests.support.ports import free_port
from tests.support.smtp_sink import Sink, smtp_sink

NEW = "delegate@kgz.example"
BODY = {"email": NEW, "party": "KGZ", "role": "expert"}


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


def _app(config: Config, smtp_url: str) -> Flask:
    app = create_app(dataclasses.replace(config, smtp_url=parse_smtp_url(smtp_url)))
    add_party(app, "KGZ", name="Kyrgyz Republic")
    add_user(app, "admin@peerlex.example", None, "admin")
    return app


def test_the_link_is_mailed(config: Config, sink: Sink) -> None:
    app = _app(config, f"smtp://127.0.0.1:{sink.port}?from=peerlex@example.org")
    try:
        client = app.test_client()
        admin = Api(client, token_for(client, "admin@peerlex.example"))
        made = admin.post("/api/v1/invitations", json=BODY)
        assert made.status_code == 201, made.json
        assert made.json["mailed"] is True
        (message,) = sink.messages
        assert message["To"] == NEW
        assert message["From"] == "peerlex@example.org"
        text = message.get_content()
        assert made.json["url"] in text
        assert "admin@peerlex.example invites you to KGZ (Kyrgyz Republic) as expert" in text
        assert len(text.splitlines()) == 9
    finally:
        app.extensions["peerlex.db"].engine.dispose()


def test_a_mail_server_that_does_not_answer_loses_nothing(config: Config) -> None:
    app = _app(config, f"smtp://127.0.0.1:{free_port()}?from=peerlex@example.org")
    try:
        client = app.test_client()
        admin = Api(client, token_for(client, "admin@peerlex.example"))
        made = admin.post("/api/v1/invitations", json=BODY)
        assert made.status_code == 201
        assert made.json["mailed"] is False
        with app.app_context():
            assert db_session().scalar(select(Invitation.email)) == NEW
    finally:
        app.extensions["peerlex.db"].engine.dispose()


def test_without_a_mail_server_nothing_is_mailed(app: Flask, sink: Sink) -> None:
    add_party(app, "KGZ")
    add_user(app, "admin@peerlex.example", None, "admin")
    client = app.test_client()
    admin = Api(client, token_for(client, "admin@peerlex.example"))
    made = admin.post("/api/v1/invitations", json=BODY)
    assert made.json["mailed"] is False
    assert sink.messages == []


@pytest.mark.parametrize(
    "value",
    [
        "http://mail.example?from=a@b.example",
        "smtp://mail.example",
        "smtp://mail.example?from=nobody",
        "smtp://?from=a@b.example",
        "smtp://mail.example/path?from=a@b.example",
    ],
)
def test_a_bad_smtp_url_stops_the_start(value: str) -> None:
    with pytest.raises(ValueError, match="PEERLEX_SMTP_URL"):
        Config.from_env({"PEERLEX_SMTP_URL": value})


def test_a_good_smtp_url_is_read() -> None:
    value = "smtps://user:secret@mail.example:465?from=peerlex@example.org"
    assert Config.from_env({"PEERLEX_SMTP_URL": value}).smtp_url == value
