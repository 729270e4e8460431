"""Fixtures for the Flask app: config(tmp_path) -> app -> client, plus parties and users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from keys.master import create_master_key
from server.app import create_app
from server.config import Config
from server.db import db_session
from server.models import Membership, Party, User
from server.passwords import hash_password
from server.services.context import services

if TYPE_CHECKING:
    from click.testing import CliRunner

PASSWORD = "correct horse battery staple"
# Cheap scrypt for tests; production uses 2**15.
TEST_SCRYPT_N = 2**10


@pytest.fixture
def config(tmp_path: Path, clean_database: Callable[[Path], str | None]) -> Config:
    """A data directory with a master key and a clean database (SQLite or PostgreSQL)."""
    data = tmp_path / "data"
    data.mkdir()
    create_master_key(data / "master.key")
    return Config(
        data_dir=data,
        database_url=clean_database(data),
        scrypt_n=TEST_SCRYPT_N,
        testing=True,
        secure_cookies=False,
    )


@pytest.fixture
def app(config: Config) -> Iterator[Flask]:
    application = create_app(config)
    yield application
    application.extensions["peerlex.db"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def add_party(app: Flask, code: str, kind: str = "state", name: str | None = None) -> None:
    with app.app_context():
        found = services()
        found.keys.create(code)
        found.store.create_repository(code)
        db_session().add(Party(code=code, name=name or f"Party {code}", kind=kind))
        db_session().commit()


def add_user(app: Flask, email: str, party: str | None, role: str) -> None:
    with app.app_context():
        session = db_session()
        user = User(
            email=email,
            password_hash=hash_password(PASSWORD, TEST_SCRYPT_N),
            is_admin=role == "admin",
        )
        if party is not None:
            found = session.query(Party).filter_by(code=party).one()
            user.memberships.append(Membership(party=found, role=role))
        session.add(user)
        session.commit()


def server_cli(app: Flask) -> CliRunner:
    """A click test runner for `peerlex-server` that uses the same database as app."""
    from click.testing import CliRunner

    url = app.extensions["peerlex.config"].database_url
    return CliRunner(env={"PEERLEX_DATABASE_URL": url} if url else {})


class Api:
    """A test client that speaks as one user through a Bearer token."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)


def token_for(client: FlaskClient, email: str) -> str:
    response = client.post("/api/v1/auth/tokens", json={"email": email, "password": PASSWORD})
    body = response.json
    assert response.status_code == 201, body
    assert body is not None
    token: str = body["token"]
    return token


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> dict[str, Api]:
    """Two States, an organisation, and one user per role, each with an API client."""
    add_party(app, "BLR")
    add_party(app, "KGZ")
    add_party(app, "UNRCPD", kind="organisation")
    add_user(app, "expert@blr.example", "BLR", "expert")
    add_user(app, "head@blr.example", "BLR", "head")
    add_user(app, "expert@kgz.example", "KGZ", "expert")
    add_user(app, "organiser@unrcpd.example", "UNRCPD", "organiser")
    add_user(app, "admin@peerlex.example", None, "admin")
    users = {
        "own": "expert@blr.example",
        "head": "head@blr.example",
        "other": "expert@kgz.example",
        "organiser": "organiser@unrcpd.example",
        "admin": "admin@peerlex.example",
    }
    apis = {name: Api(client, token_for(client, email)) for name, email in users.items()}
    apis["anonymous"] = Api(client, None)
    return apis


DocFactory = Callable[..., Any]


@pytest.fixture
def put_doc(world: dict[str, Api]) -> DocFactory:
    def _put(content: str, base: str | None = None, slug: str = "export-law", **extra: Any) -> Any:
        body: dict[str, Any] = {"content": content, "message": "draft", **extra}
        if base:
            body["base"] = base
        return world["own"].put(f"/api/v1/parties/BLR/documents/{slug}", json=body)

    return _put


# Imported last: the review fixtures build on the helpers above.
from tests.bundle_fixtures import agreed as agreed  # noqa: E402
from tests.server.review_fixtures import review_world as review_world  # noqa: E402
