"""Second factors: enrolling an authenticator, its codes (±1 step, once), recovery codes, the
throttle, removal, an operator's reset, and bad input to the routes that write nothing."""

from __future__ import annotations

import dataclasses
import http.client
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from keys.factor_secrets import FactorSecretError
from server import signin
from server.cli import main
from server.config import Config
from server.db import db_session
from server.models import AuditEntry, MfaFactor, RecoveryCode
from server.services import mfa
from server.services.context import services
from server.signin import MAX_PAIR_FAILURES
from tests.server.test_signin import race, served
from tests.support.accounts import PASSWORD
from tests.support.api import Api, server_cli, token_for
from tests.support.second_factor import (
    Enrolled,
    away_from_a_step_edge,
    code_at,
    deployment,
    enrol,
    wrong_code_at,
)

# The middle of a time step, so that ±1 and ±2 steps are unambiguous.
NOW = 1_800_000_015.0
HEAD = "head@blr.example"
EXPERT = "expert@blr.example"


@pytest.fixture
def mfa_config(config: Config) -> Config:
    """The deployment default: heads, organisers and admins must hold a second factor."""
    return dataclasses.replace(config, require_mfa="roles")


@pytest.fixture
def mfa_app(config: Config) -> Iterator[Flask]:
    with deployment(config, "roles", [(HEAD, "BLR", "head"), (EXPERT, "BLR", "expert")]) as app:
        yield app


@pytest.fixture
def web(mfa_app: Flask) -> FlaskClient:
    return mfa_app.test_client()


class Clock:
    """The server's idea of now, for code checks."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(mfa, "utcnow", found)
    return found


def api_for(client: FlaskClient, email: str) -> Api:
    return Api(client, token_for(client, email))


@pytest.fixture
def expert(web: FlaskClient, clock: Clock) -> tuple[Api, Enrolled]:
    """The expert, who need not, with an authenticator enrolled at NOW."""
    api = api_for(web, EXPERT)
    return api, enrol(api, NOW)


@pytest.fixture
def enrolled_head(web: FlaskClient, clock: Clock) -> Enrolled:
    return enrol(api_for(web, HEAD), NOW)


def sign_in(client: FlaskClient, email: str, code: str | None, address: str = "10.0.0.1") -> Any:
    body = {"email": email, "password": PASSWORD, **({"code": code} if code else {})}
    return client.post("/api/v1/auth/tokens", json=body, environ_base={"REMOTE_ADDR": address})


def problem_kind(response: Any) -> str:
    assert response.mimetype == "application/problem+json", response.data
    kind: str = response.json["type"]
    return kind.rsplit("/", 1)[-1]


def rows(app: Flask) -> tuple[Any, ...]:
    """Everything a second-factor write changes, to show a refusal wrote nothing."""
    with app.app_context():
        session = db_session()
        factors = session.execute(
            select(MfaFactor.id, MfaFactor.confirmed_at, MfaFactor.last_step, MfaFactor.label)
        ).all()
        codes = session.execute(select(RecoveryCode.id, RecoveryCode.used_at)).all()
        return tuple(factors), tuple(codes)


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        query = select(AuditEntry.action).where(AuditEntry.action.like("mfa.%"))
        return list(db_session().scalars(query.order_by(AuditEntry.id)))


# -- enrolling ---------------------------------------------------------------------------------


def test_enrolling_gives_a_secret_and_confirming_ten_recovery_codes(
    web: FlaskClient, mfa_app: Flask, clock: Clock
) -> None:
    head = api_for(web, HEAD)
    started = head.post("/api/v1/me/mfa/totp", json={"label": "phone"})
    assert started.status_code == 201
    secret = started.json["secret"]
    assert len(secret) == 32  # 160 bits of base32
    assert started.json["otpauth_uri"].startswith("otpauth://totp/peerlex:head%40blr.example?")
    assert f"secret={secret}" in started.json["otpauth_uri"]
    pending = head.get("/api/v1/me/mfa").json
    assert [f["confirmed_at"] for f in pending["factors"]] == [None]
    # A pending factor signs no one in: no code is asked for yet.
    assert sign_in(web, HEAD, None).status_code == 201
    confirmed = head.post("/api/v1/me/mfa/totp/confirm", json={"code": code_at(secret, NOW)})
    assert confirmed.status_code == 200
    codes = confirmed.json["recovery_codes"]
    assert len(set(codes)) == 10
    # Each is 24 base32 letters: 120 bits.
    assert all(len(code.replace("-", "")) == 24 for code in codes)
    listed = head.get("/api/v1/me/mfa").json
    assert listed["recovery_codes_left"] == 10
    assert listed["factors"][0]["label"] == "phone"
    assert listed["factors"][0]["confirmed_at"] is not None
    assert audit_actions(mfa_app) == ["mfa.enrol", "mfa.confirm"]


def test_the_secret_is_stored_wrapped_and_bound_to_its_user(
    mfa_app: Flask, enrolled_head: Enrolled
) -> None:
    with mfa_app.app_context():
        factor = db_session().scalar(select(MfaFactor))
        assert factor is not None
        assert enrolled_head.secret not in factor.wrapped_secret
        box = services().factor_secrets
        assert box.unwrap_for_user(factor.user_id, factor.wrapped_secret)
        with pytest.raises(FactorSecretError):
            box.unwrap_for_user(factor.user_id + 1, factor.wrapped_secret)
        hashes = db_session().scalars(select(RecoveryCode.code_hash))
        assert not set(hashes) & set(enrolled_head.recovery_codes)


# -- codes at sign-in --------------------------------------------------------------------------


def test_a_user_with_a_factor_needs_a_code(web: FlaskClient, enrolled_head: Enrolled) -> None:
    refused = sign_in(web, HEAD, None)
    assert refused.status_code == 401
    assert problem_kind(refused) == "mfa-required"
    assert sign_in(web, HEAD, code_at(enrolled_head.secret, NOW + 30)).status_code == 201


@pytest.mark.parametrize("steps", [-2, 2, 5, -40])
def test_a_code_two_or_more_steps_away_is_refused(
    web: FlaskClient, enrolled_head: Enrolled, clock: Clock, steps: int
) -> None:
    clock.now = NOW + 120
    refused = sign_in(web, HEAD, code_at(enrolled_head.secret, clock.now + 30 * steps))
    assert refused.status_code == 401
    assert problem_kind(refused) == "mfa-required"


def test_codes_one_step_either_side_are_accepted_and_each_only_once(
    web: FlaskClient, enrolled_head: Enrolled, clock: Clock
) -> None:
    clock.now = NOW + 120
    for offset in (-30, 0, 30):
        code = code_at(enrolled_head.secret, clock.now + offset)
        assert sign_in(web, HEAD, code).status_code == 201
        replayed = sign_in(web, HEAD, code)
        assert replayed.status_code == 401
        assert replayed.json["detail"] == "wrong code, or a code used already"
    # Codes of the steps up to the newest one accepted are refused, even when still near now.
    clock.now += 30
    assert sign_in(web, HEAD, code_at(enrolled_head.secret, clock.now - 30)).status_code == 401
    assert sign_in(web, HEAD, code_at(enrolled_head.secret, clock.now)).status_code == 401
    clock.now += 60
    assert sign_in(web, HEAD, code_at(enrolled_head.secret, clock.now)).status_code == 201


def test_wrong_codes_count_towards_the_lockout(
    web: FlaskClient, mfa_app: Flask, enrolled_head: Enrolled, clock: Clock
) -> None:
    clock.now = NOW + 300
    for n in range(MAX_PAIR_FAILURES):
        wrong = f"{(int(code_at(enrolled_head.secret, clock.now)) + 1 + n) % 10**6:06d}"
        assert sign_in(web, HEAD, wrong).status_code == 401
    right = sign_in(web, HEAD, code_at(enrolled_head.secret, clock.now))
    assert right.status_code == 429
    # From another address, the right code still signs in (the pair's limit is the one hit).
    assert (
        sign_in(web, HEAD, code_at(enrolled_head.secret, clock.now), "10.0.0.2").status_code == 201
    )


def test_codes_are_asked_for_by_cookie_sign_in_too(
    web: FlaskClient, enrolled_head: Enrolled
) -> None:
    body = {"email": HEAD, "password": PASSWORD}
    assert problem_kind(web.post("/api/v1/auth/login", json=body)) == "mfa-required"
    code = code_at(enrolled_head.secret, NOW + 30)
    assert web.post("/api/v1/auth/login", json={**body, "code": code}).status_code == 200


def csrf_of(page: Any) -> str:
    return str(page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0])


def test_the_sign_in_page_asks_for_the_code_on_a_second_page(
    web: FlaskClient, enrolled_head: Enrolled
) -> None:
    form = {"email": HEAD, "password": PASSWORD, "csrf_token": csrf_of(web.get("/sign-in"))}
    password_right = web.post("/sign-in", data=form)
    assert password_right.status_code == 303
    assert password_right.headers["Location"].endswith("/sign-in/second-factor")
    # Not signed in yet: the password alone reaches no page.
    assert web.get("/reviews").status_code == 302
    step = web.get("/sign-in/second-factor")
    assert 'name="code"' in step.text
    assert HEAD in step.text
    token = csrf_of(step)
    wrong = web.post("/sign-in/second-factor", data={"code": "000000x", "csrf_token": token})
    assert wrong.status_code == 401
    assert "Wrong code" in wrong.text
    right_code = code_at(enrolled_head.secret, NOW + 30)
    right = web.post("/sign-in/second-factor", data={"code": right_code, "csrf_token": token})
    assert right.status_code == 302
    assert web.get("/reviews").status_code == 200
    # The step is spent: the session that started carries no pending password.
    assert web.get("/sign-in/second-factor").status_code == 302


def test_a_wrong_password_never_reaches_the_second_step(
    web: FlaskClient, enrolled_head: Enrolled
) -> None:
    form = {"email": HEAD, "password": "not it", "csrf_token": csrf_of(web.get("/sign-in"))}
    assert web.post("/sign-in", data=form).status_code == 401
    assert web.get("/sign-in/second-factor").status_code == 302


def test_the_second_step_expires(
    web: FlaskClient, enrolled_head: Enrolled, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signin, "utcnow", clock)
    form = {"email": HEAD, "password": PASSWORD, "csrf_token": csrf_of(web.get("/sign-in"))}
    assert web.post("/sign-in", data=form).status_code == 303
    clock.now += 301
    assert web.get("/sign-in/second-factor").status_code == 302


def test_a_recovery_code_on_the_second_page_says_how_many_are_left(
    web: FlaskClient, enrolled_head: Enrolled
) -> None:
    form = {"email": HEAD, "password": PASSWORD, "csrf_token": csrf_of(web.get("/sign-in"))}
    web.post("/sign-in", data=form)
    token = csrf_of(web.get("/sign-in/second-factor"))
    code = enrolled_head.recovery_codes[0]
    used = web.post("/sign-in/second-factor", data={"code": code, "csrf_token": token})
    assert used.status_code == 302
    assert "9 are left" in web.get(used.headers["Location"]).text


# -- recovery codes ----------------------------------------------------------------------------


def test_each_recovery_code_signs_in_once_and_says_how_many_are_left(
    web: FlaskClient, mfa_app: Flask, enrolled_head: Enrolled
) -> None:
    first, second = enrolled_head.recovery_codes[:2]
    used = sign_in(web, HEAD, first)
    assert used.status_code == 201
    assert used.json["recovery_codes_left"] == 9
    assert sign_in(web, HEAD, first).status_code == 401
    # Typed in lower case without its dashes, it is the same code.
    again = sign_in(web, HEAD, second.replace("-", "").lower())
    assert again.json["recovery_codes_left"] == 8
    head = Api(web, again.json["token"])
    assert head.get("/api/v1/me/mfa").json["recovery_codes_left"] == 8
    assert audit_actions(mfa_app).count("mfa.recovery-code") == 2


# -- removing and resetting --------------------------------------------------------------------


def test_the_last_factor_of_a_head_stays(
    web: FlaskClient, mfa_app: Flask, enrolled_head: Enrolled
) -> None:
    head = Api(web, sign_in(web, HEAD, code_at(enrolled_head.secret, NOW + 30)).json["token"])
    before = rows(mfa_app)
    refused = head.delete(
        f"/api/v1/me/mfa/{enrolled_head.factor_id}", json={"code": enrolled_head.recovery_codes[0]}
    )
    assert refused.status_code == 409
    assert problem_kind(refused) == "last-factor"
    assert rows(mfa_app) == before


def test_an_expert_removes_a_factor_with_a_fresh_code(
    web: FlaskClient, mfa_app: Flask, expert: tuple[Api, Enrolled]
) -> None:
    api, enrolled = expert
    url = f"/api/v1/me/mfa/{enrolled.factor_id}"
    # The code that confirmed the factor is used: it proves nothing any more.
    assert api.delete(url, json={"code": code_at(enrolled.secret, NOW)}).status_code == 422
    assert api.delete(url, json={"code": code_at(enrolled.secret, NOW + 30)}).status_code == 204
    assert api.get("/api/v1/me/mfa").json == {"factors": [], "recovery_codes_left": 0}
    assert sign_in(web, EXPERT, None).status_code == 201
    assert audit_actions(mfa_app)[-1] == "mfa.remove"


def test_reset_mfa_removes_the_factors_and_ends_sessions_and_tokens(
    web: FlaskClient, mfa_app: Flask, enrolled_head: Enrolled
) -> None:
    head = Api(web, sign_in(web, HEAD, code_at(enrolled_head.secret, NOW + 30)).json["token"])
    assert head.get("/api/v1/reviews").status_code == 200
    done = server_cli(mfa_app).invoke(
        main,
        ["--data", str(mfa_app.extensions["peerlex.config"].data_dir), "user", "reset-mfa", HEAD],
    )
    assert done.exit_code == 0, done.output
    assert "1 removed" in done.output
    assert head.get("/api/v1/me").status_code == 401
    assert rows(mfa_app) == ((), ())
    assert audit_actions(mfa_app)[-1] == "mfa.reset"
    # Signed in again with the password alone, the head may only enrol anew.
    again = api_for(web, HEAD)
    assert problem_kind(again.get("/api/v1/reviews")) == "mfa-enrolment-required"


def test_reset_mfa_of_an_unknown_user_fails(mfa_app: Flask) -> None:
    data = str(mfa_app.extensions["peerlex.config"].data_dir)
    done = server_cli(mfa_app).invoke(main, ["--data", data, "user", "reset-mfa", "no@one.example"])
    assert done.exit_code != 0
    assert "no user no@one.example" in done.output


# -- bad input writes nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("POST", "/api/v1/me/mfa/totp", {"label": "x" * 201}, 422),
        ("POST", "/api/v1/me/mfa/totp", {"label": "two\nlines"}, 422),
        ("POST", "/api/v1/me/mfa/totp", {"label": 5}, 422),
        ("POST", "/api/v1/me/mfa/totp", {"secret": "AAAA"}, 422),
        ("POST", "/api/v1/me/mfa/totp", [], 422),
        ("POST", "/api/v1/me/mfa/totp/confirm", {}, 422),
        ("POST", "/api/v1/me/mfa/totp/confirm", {"code": ""}, 422),
        ("POST", "/api/v1/me/mfa/totp/confirm", {"code": 123456}, 422),
        ("POST", "/api/v1/me/mfa/totp/confirm", {"code": "1" * 65}, 422),
        ("POST", "/api/v1/me/mfa/totp/confirm", {"code": "123456", "x": 1}, 422),
        ("POST", "/api/v1/me/mfa/totp/confirm", {"code": "000000"}, 409),
        ("DELETE", "/api/v1/me/mfa/1", {}, 422),
        ("DELETE", "/api/v1/me/mfa/1", {"code": None}, 422),
        ("DELETE", "/api/v1/me/mfa/999", {"code": "123456"}, 404),
        ("DELETE", "/api/v1/me/mfa/99999999999", {"code": "123456"}, 404),
        ("DELETE", "/api/v1/me/mfa/-1", {"code": "123456"}, 404),
        ("DELETE", "/api/v1/me/mfa/x", {"code": "123456"}, 404),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    web: FlaskClient,
    mfa_app: Flask,
    enrolled_head: Enrolled,
    method: str,
    url: str,
    body: Any,
    status: int,
) -> None:
    head = Api(web, sign_in(web, HEAD, code_at(enrolled_head.secret, NOW + 30)).json["token"])
    before = rows(mfa_app)
    answer = head.request(method, url, json=body)
    assert answer.status_code == status, answer.json
    assert answer.mimetype == "application/problem+json"
    assert rows(mfa_app) == before


def test_a_wrong_confirmation_code_writes_nothing(
    web: FlaskClient, mfa_app: Flask, clock: Clock
) -> None:
    head = api_for(web, HEAD)
    secret = head.post("/api/v1/me/mfa/totp", json={}).json["secret"]
    before = rows(mfa_app)
    wrong = wrong_code_at(secret, NOW)
    for code in (wrong, "abcdef", "12345"):
        answer = head.post("/api/v1/me/mfa/totp/confirm", json={"code": code})
        assert answer.status_code == 422
        assert problem_kind(answer) == "wrong-code"
    assert rows(mfa_app) == before


def test_bad_codes_at_sign_in_are_refused(web: FlaskClient, enrolled_head: Enrolled) -> None:
    for code in ("", "1" * 65, 123456, None):
        answer = web.post(
            "/api/v1/auth/tokens", json={"email": HEAD, "password": PASSWORD, "code": code}
        )
        assert answer.status_code == 422, code


# -- several workers -----------------------------------------------------------------------------


def post_sign_in(port: int, code: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            "/api/v1/auth/tokens",
            body=json.dumps({"email": HEAD, "password": PASSWORD, "code": code}),
            headers={"Content-Type": "application/json"},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_one_code_is_accepted_once_across_worker_processes(
    mfa_app: Flask, mfa_config: Config, web: FlaskClient
) -> None:
    """The same code sent to 4 gunicorn workers at once signs in exactly once."""
    now = away_from_a_step_edge()
    enrolled = enrol(api_for(web, HEAD), now)
    with served(mfa_config) as port:
        # Within the limit of failures from one address, so every request's code is checked.
        statuses = race(
            MAX_PAIR_FAILURES, lambda _: post_sign_in(port, code_at(enrolled.secret, now + 30))
        )
    assert statuses == Counter({201: 1, 401: MAX_PAIR_FAILURES - 1})


def test_wrong_codes_to_remove_a_factor_count_towards_the_lockout(
    web: FlaskClient, mfa_app: Flask, expert: tuple[Api, Enrolled]
) -> None:
    api, enrolled = expert
    url = f"/api/v1/me/mfa/{enrolled.factor_id}"
    before = rows(mfa_app)
    wrong = wrong_code_at(enrolled.secret, NOW + 30)
    for _ in range(MAX_PAIR_FAILURES):
        assert api.delete(url, json={"code": wrong}).status_code == 422
    right = api.delete(url, json={"code": code_at(enrolled.secret, NOW + 30)})
    assert right.status_code == 429
    assert rows(mfa_app) == before
    # The same budget as signing in from that address (the test client's).
    again = sign_in(web, EXPERT, code_at(enrolled.secret, NOW + 30), "127.0.0.1")
    assert again.status_code == 429


def test_refusals_other_than_a_wrong_code_do_not_count(
    web: FlaskClient, mfa_app: Flask, enrolled_head: Enrolled
) -> None:
    head = Api(web, sign_in(web, HEAD, code_at(enrolled_head.secret, NOW + 30)).json["token"])
    for _ in range(MAX_PAIR_FAILURES + 1):
        url = f"/api/v1/me/mfa/{enrolled_head.factor_id}"
        assert head.delete(url, json={"code": "123456"}).status_code == 409
        assert head.delete("/api/v1/me/mfa/999", json={"code": "123456"}).status_code == 404
