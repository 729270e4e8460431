"""Approving and building a bundle with a sign-in older than 15 minutes ask for the second
factor again: a code in X-Peerlex-Code, or a fresh sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from server.auth import STEP_UP_ENDPOINTS
from server.config import Config
from server.db import db_session
from server.models import ApiToken, UserSession, utcnow
from server.signin import MAX_PAIR_FAILURES
from tests.support.accounts import PASSWORD
from tests.support.api import Api, token_for
from tests.support.second_factor import (
    Enrolled,
    away_from_a_step_edge,
    code_at,
    deployment,
    enrol,
    wrong_code_at,
)

HEAD = "head@blr.example"
ORGANISER = "organiser@unrcpd.example"
APPROVE = ("POST", "/api/v1/reviews/dushanbe/approvals")
ACTS = [
    APPROVE,
    ("POST", "/api/v1/reviews/dushanbe/bundle"),
    ("POST", "/api/v1/reviews/dushanbe/approvals/requests"),
]
STEP_UP = "https://peerlex.org/problems/mfa-step-up-required"


@pytest.fixture
def mfa_app(config: Config) -> Iterator[Flask]:
    users = [(HEAD, "BLR", "head"), (ORGANISER, "UNRCPD", "organiser")]
    with deployment(config, "roles", users) as app:
        yield app


@pytest.fixture
def web(mfa_app: Flask) -> FlaskClient:
    return mfa_app.test_client()


@pytest.fixture
def head(web: FlaskClient) -> tuple[Api, Enrolled, float]:
    """The head, enrolled, with the token it enrolled through (signed in without a code)."""
    now = away_from_a_step_edge()
    api = Api(web, token_for(web, HEAD))
    return api, enrol(api, now), now


def age_credentials(app: Flask, minutes: int) -> None:
    with app.app_context():
        then = utcnow() - timedelta(minutes=minutes)
        db_session().execute(update(ApiToken).values(created_at=then))
        db_session().execute(
            update(UserSession).values(created_at=then, last_seen_at=then, verified_at=then)
        )
        db_session().commit()


def problem_type(response: Any) -> str | None:
    if response.mimetype != "application/problem+json":
        return None
    found: str = response.json["type"]
    return found


def act(api: Api, method: str, url: str, code: str | None = None) -> Any:
    headers = {"X-Peerlex-Code": code} if code else {}
    body = {"party": "BLR", "slug": "export-law", "version": "0" * 40}
    return api.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize(("method", "url"), ACTS)
def test_an_old_sign_in_needs_a_fresh_code(
    mfa_app: Flask, head: tuple[Api, Enrolled, float], method: str, url: str
) -> None:
    api, enrolled, now = head
    assert problem_type(act(api, method, url)) != STEP_UP
    age_credentials(mfa_app, 16)
    refused = act(api, method, url)
    assert refused.status_code == 403
    assert problem_type(refused) == STEP_UP
    assert "sign in again" in refused.json["detail"]
    # With a code, the request goes on to be answered as ever (here: no such review).
    stepped_up = act(api, method, url, code_at(enrolled.secret, now + 30))
    assert stepped_up.status_code == 404


def test_a_code_steps_up_once(mfa_app: Flask, head: tuple[Api, Enrolled, float]) -> None:
    api, enrolled, now = head
    age_credentials(mfa_app, 16)
    code = code_at(enrolled.secret, now + 30)
    assert act(api, *APPROVE, code).status_code == 404
    replayed = act(api, *APPROVE, code)
    assert problem_type(replayed) == STEP_UP
    assert replayed.json["detail"] == "wrong code, or a code used already"


def test_wrong_step_up_codes_count_towards_the_lockout(
    mfa_app: Flask, web: FlaskClient, head: tuple[Api, Enrolled, float]
) -> None:
    api, enrolled, now = head
    age_credentials(mfa_app, 16)
    wrong = wrong_code_at(enrolled.secret, now + 30)
    for _ in range(MAX_PAIR_FAILURES):
        assert problem_type(act(api, *APPROVE, wrong)) == STEP_UP
    assert act(api, *APPROVE, code_at(enrolled.secret, now + 30)).status_code == 429


def test_a_fresh_sign_in_steps_up(
    mfa_app: Flask, web: FlaskClient, head: tuple[Api, Enrolled, float]
) -> None:
    api, enrolled, now = head
    age_credentials(mfa_app, 16)
    assert problem_type(act(api, *APPROVE)) == STEP_UP
    signed_in = Api(web, None).post(
        "/api/v1/auth/tokens",
        json={"email": HEAD, "password": PASSWORD, "code": code_at(enrolled.secret, now + 30)},
    )
    assert act(Api(web, signed_in.json["token"]), *APPROVE).status_code == 404


def test_an_old_cookie_session_steps_up_too(
    mfa_app: Flask, web: FlaskClient, head: tuple[Api, Enrolled, float]
) -> None:
    _api, enrolled, now = head
    body = {"email": HEAD, "password": PASSWORD, "code": code_at(enrolled.secret, now + 30)}
    cookie = Api(web, None)
    csrf = cookie.post("/api/v1/auth/login", json=body).json["csrf_token"]
    headers = {"X-CSRFToken": csrf}
    approve = {"party": "BLR", "slug": "export-law", "version": "0" * 40}
    assert cookie.post(APPROVE[1], json=approve, headers=headers).status_code == 404
    age_credentials(mfa_app, 16)
    refused = cookie.post(APPROVE[1], json=approve, headers=headers)
    assert problem_type(refused) == STEP_UP


def test_other_writes_need_no_step_up(mfa_app: Flask, head: tuple[Api, Enrolled, float]) -> None:
    api, _enrolled, _now = head
    age_credentials(mfa_app, 16)
    answer = api.post("/api/v1/reviews/dushanbe/comments", json={"body": "x"})
    assert problem_type(answer) != STEP_UP


def test_every_act_named_for_step_up_exists(mfa_app: Flask) -> None:
    assert set(STEP_UP_ENDPOINTS) <= set(mfa_app.view_functions)
