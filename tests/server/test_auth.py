"""Sessions, tokens and CSRF."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.server.conftest import PASSWORD, Api, token_for


def test_token_lifecycle(world: dict[str, Api], client: FlaskClient) -> None:
    token = token_for(client, "expert@blr.example")
    api = Api(client, token)
    assert api.get("/api/v1/me").json["memberships"] == [{"party": "BLR", "role": "expert"}]
    assert api.delete("/api/v1/auth/tokens").status_code == 204
    assert api.get("/api/v1/me").status_code == 401
    assert Api(client, "plx_forged").get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_user_answer_alike(
    world: dict[str, Api], client: FlaskClient
) -> None:
    wrong = client.post(
        "/api/v1/auth/tokens", json={"email": "expert@blr.example", "password": "nope nope nope"}
    )
    unknown = client.post(
        "/api/v1/auth/tokens", json={"email": "nobody@blr.example", "password": "nope nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_cookie_session_needs_csrf_for_writes(world: dict[str, Api], client: FlaskClient) -> None:
    login = client.post(
        "/api/v1/auth/login", json={"email": "expert@blr.example", "password": PASSWORD}
    )
    assert login.status_code == 200
    csrf = login.json["csrf_token"]
    body = {"content": "Статья 1.\n", "message": "m"}
    url = "/api/v1/parties/BLR/documents/export-law"
    refused = client.put(url, json=body)
    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    assert client.put(url, json=body, headers={"X-CSRFToken": csrf}).status_code == 201
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_bad_token_is_not_rescued_by_a_cookie(world: dict[str, Api], client: FlaskClient) -> None:
    client.post("/api/v1/auth/login", json={"email": "expert@blr.example", "password": PASSWORD})
    assert client.get("/api/v1/me").status_code == 200
    assert Api(client, "plx_bad").get("/api/v1/me").status_code == 401
