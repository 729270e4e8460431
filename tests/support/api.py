"""Speaking to an app under test: as one user through a Bearer token, or through its CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD

if TYPE_CHECKING:
    from click.testing import CliRunner

# put_doc(content, base=None, slug="export-law", **extra): BLR's expert saves a version.
DocFactory = Callable[..., Any]


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


def server_cli(app: Flask) -> CliRunner:
    """A click test runner for `peerlex-server` that uses the same database as app."""
    from click.testing import CliRunner

    url = app.extensions["peerlex.config"].database_url
    return CliRunner(env={"PEERLEX_DATABASE_URL": url} if url else {})
