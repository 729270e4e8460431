"""Sessions, tokens and CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD
from tests.support.api import Api, token_for


def test_token_lifecycle(world: dict[str, Api], client: FlaskClient) -> None:
    token = token_for(client, "expert@blr.example")
    api = Api(client, token)
    assert api.get("/api/v1/me").json["memberships"] == [{"party": "BLR", "role": "expert"}]
    assert api.delete("/api/v1/auth/tokens").status_code == 204
    assert api.get("/api/v1/me").status_code == 401
    assert Api(client, "plx_forged").get("/api/v1/me").status_code == 401


def test_logout_with_a_token_revokes_that_token(world: dict[str, Api], client: FlaskClient) -> None:
    """POST /auth/logout with a Bearer token ends that token, and no other."""
    token = Api(client, token_for(client, "expert@blr.example"))
    other = Api(client, token_for(client, "expert@blr.example"))
    assert token.get("/api/v1/me").status_code == 200
    assert token.post("/api/v1/auth/logout").status_code == 204
    assert token.get("/api/v1/me").status_code == 401
    assert token.post("/api/v1/auth/logout").status_code == 401
    assert other.get("/api/v1/me").status_code == 200


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
    assert login.json is not None
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


def _sign_in(client: FlaskClient, email: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(
        "/api/v1/auth/tokens",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_account_lockout_after_repeated_failures(
    world: dict[str, Api], client: FlaskClient
) -> None:
    for _ in range(5):
        assert _sign_in(client, "expert@blr.example", "wrong password!!").status_code == 401
    locked = _sign_in(client, "expert@blr.example", PASSWORD)  # even the right one, for now
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60 + 1
    assert locked.mimetype == "application/problem+json"
    # Other accounts are not affected.
    assert _sign_in(client, "expert@kgz.example", PASSWORD).status_code == 201


def test_unknown_accounts_lock_the_same_way(world: dict[str, Api], client: FlaskClient) -> None:
    answers = [_sign_in(client, "nobody@blr.example", "wrong password!!") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]


def test_unknown_email_and_wrong_password_take_similar_time(
    world: dict[str, Api], client: FlaskClient
) -> None:
    import statistics
    import time

    def timed(email: str, address: str) -> float:
        start = time.perf_counter()
        _sign_in(client, email, "wrong password!!", address=address)
        return time.perf_counter() - start

    known = statistics.median(timed("head@blr.example", f"198.51.100.{n}") for n in range(4))
    unknown = statistics.median(timed("ghost@blr.example", f"198.51.101.{n}") for n in range(4))
    assert 0.5 < known / unknown < 2.0


def test_new_session_id_at_login_and_logout_ends_it_on_the_server(
    world: dict[str, Api], client: FlaskClient
) -> None:
    client.get("/api/v1/healthz")
    before = client.get_cookie("peerlex_session")
    login = client.post(
        "/api/v1/auth/login", json={"email": "expert@blr.example", "password": PASSWORD}
    )
    assert login.status_code == 200
    cookie = client.get_cookie("peerlex_session")
    assert cookie is not None
    assert before is None or before.value != cookie.value
    stolen = cookie.value
    assert login.json is not None
    client.post("/api/v1/auth/logout", headers={"X-CSRFToken": login.json["csrf_token"]})
    # Replaying the old cookie does not bring the session back: it ended on the server.
    client.set_cookie("peerlex_session", stolen)
    assert client.get("/api/v1/me").status_code == 401


def test_logout_everywhere_ends_sessions_and_tokens(
    world: dict[str, Api], client: FlaskClient
) -> None:
    token = token_for(client, "expert@blr.example")
    other = Api(client, token)
    login = client.post(
        "/api/v1/auth/login", json={"email": "expert@blr.example", "password": PASSWORD}
    )
    assert other.get("/api/v1/me").status_code == 200
    assert login.json is not None
    client.post("/api/v1/auth/logout-everywhere", headers={"X-CSRFToken": login.json["csrf_token"]})
    assert other.get("/api/v1/me").status_code == 401
    assert world["own"].get("/api/v1/me").status_code == 401  # the fixture's token, too


def test_expired_token_is_refused(app: Any, world: dict[str, Api], client: FlaskClient) -> None:
    from server.db import db_session
    from server.models import ApiToken, utcnow

    token = token_for(client, "expert@blr.example")
    with app.app_context():
        for record in db_session().query(ApiToken).all():
            record.expires_at = utcnow()
        db_session().commit()
    assert Api(client, token).get("/api/v1/me").status_code == 401


def test_session_cookie_flags(tmp_path: Any) -> None:
    from keys.master import create_master_key
    from server.app import create_app
    from server.config import Config
    from tests.support.accounts import TEST_SCRYPT_N, add_user

    data = tmp_path / "secure"
    data.mkdir()
    create_master_key(data / "master.key")
    app = create_app(Config(data_dir=data, scrypt_n=TEST_SCRYPT_N, secure_cookies=True))
    add_user(app, "admin@peerlex.example", None, "admin")
    login = app.test_client().post(
        "/api/v1/auth/login",
        base_url="https://localhost",
        json={"email": "admin@peerlex.example", "password": PASSWORD},
    )
    cookie = login.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    app.extensions["peerlex.db"].engine.dispose()


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short", False),
        ("password123456", False),
        ("qwertyuiop123", False),
        ("expert@blr.example1", False),
        ("correct horse battery staple", True),
    ],
)
def test_password_rules(password: str, ok: bool) -> None:
    from server.passwords import WeakPassword, check_password_rules

    if ok:
        check_password_rules(password, email="expert@blr.example")
    else:
        with pytest.raises(WeakPassword):
            check_password_rules(password, email="expert@blr.example")
