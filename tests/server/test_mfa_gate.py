"""Who must hold a second factor reaches nothing but enrolling until they do: every API route,
refused without a factor, and with one answered as in a deployment that requires none."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from keys.master import create_master_key
from server.app import create_app
from server.auth import ENROLMENT_ENDPOINTS, PUBLIC_ENDPOINTS, issue_token
from server.config import Config
from server.db import db_session
from server.models import User
from server.permissions import must_enrol_second_factor
from tests.support.accounts import add_party, add_user
from tests.support.api import Api, token_for
from tests.support.second_factor import away_from_a_step_edge, enrol

HEAD = "head@blr.example"
ENROLMENT_REQUIRED = "https://peerlex.org/problems/mfa-enrolment-required"


def populated(config: Config) -> Flask:
    app = create_app(config)
    add_party(app, "BLR")
    add_party(app, "UNRCPD", kind="organisation")
    add_user(app, HEAD, "BLR", "head")
    add_user(app, "expert@blr.example", "BLR", "expert")
    add_user(app, "organiser@unrcpd.example", "UNRCPD", "organiser")
    add_user(app, "observer@unrcpd.example", "UNRCPD", "observer")
    add_user(app, "admin@peerlex.example", None, "admin")
    return app


@pytest.fixture
def roles_app(config: Config) -> Iterator[Flask]:
    app = populated(dataclasses.replace(config, require_mfa="roles"))
    yield app
    app.extensions["peerlex.db"].engine.dispose()


@pytest.fixture
def plain_app(tmp_path: Path, clean_database: Callable[[Path], str | None]) -> Iterator[Flask]:
    """The same parties and users where no one must hold a second factor."""
    data = tmp_path / "plain"
    data.mkdir()
    create_master_key(data / "master.key")
    config = Config(
        data_dir=data,
        database_url=clean_database(data),
        scrypt_n=2**10,
        testing=True,
        secure_cookies=False,
        require_mfa="none",
    )
    app = populated(config)
    yield app
    app.extensions["peerlex.db"].engine.dispose()


def _sample_value(converter: str, name: str) -> str:
    if converter == "int":
        return "1"
    return "BLR" if name == "party" else "export-law"


def api_routes(app: Flask) -> list[tuple[str, str, str]]:
    """Every API route as (method, a URL it answers, endpoint)."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        url = re.sub(
            r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
            lambda m: _sample_value(m.group(1) or "default", m.group(2)),
            rule.rule,
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url, rule.endpoint))
    return sorted(found)


def fresh_api(app: Flask, email: str) -> Api:
    """A new token for the user, issued directly (a sign-in would spend a code)."""
    with app.app_context():
        user = db_session().scalar(select(User).where(User.email == email))
        assert user is not None
        token, _record = issue_token(user, 1)
        db_session().commit()
    return Api(app.test_client(), token)


def problem_type(response: Any) -> str | None:
    if response.mimetype != "application/problem+json":
        return None
    kind: str = response.json["type"]
    return kind


def answer(api: Api, method: str, url: str) -> Any:
    return api.request(method, url, json={})


def test_every_route_but_enrolling_is_refused_without_a_factor(roles_app: Flask) -> None:
    routes = api_routes(roles_app)
    assert len(routes) > 40
    for method, url, endpoint in routes:
        found = answer(fresh_api(roles_app, HEAD), method, url)
        if endpoint in PUBLIC_ENDPOINTS or endpoint in ENROLMENT_ENDPOINTS:
            assert problem_type(found) != ENROLMENT_REQUIRED, url
            continue
        assert found.status_code == 403, (method, url, found.status_code)
        assert problem_type(found) == ENROLMENT_REQUIRED


def test_with_a_factor_every_route_answers_as_where_none_is_required(
    roles_app: Flask, plain_app: Flask
) -> None:
    enrol(fresh_api(roles_app, HEAD), away_from_a_step_edge())
    differences = []
    for method, url, _endpoint in api_routes(roles_app):
        with_factor = answer(fresh_api(roles_app, HEAD), method, url)
        plain = answer(fresh_api(plain_app, HEAD), method, url)
        if with_factor.status_code != plain.status_code:
            differences.append((method, url, with_factor.status_code, plain.status_code))
    assert differences == []


@pytest.mark.parametrize(
    ("require_mfa", "email", "gated"),
    [
        ("roles", "head@blr.example", True),
        ("roles", "organiser@unrcpd.example", True),
        ("roles", "admin@peerlex.example", True),
        ("roles", "expert@blr.example", False),
        ("roles", "observer@unrcpd.example", False),
        ("all", "expert@blr.example", True),
        ("all", "observer@unrcpd.example", True),
        ("none", "head@blr.example", False),
        ("none", "admin@peerlex.example", False),
    ],
)
def test_who_must_enrol(roles_app: Flask, require_mfa: str, email: str, gated: bool) -> None:
    with roles_app.app_context():
        user = db_session().scalar(select(User).where(User.email == email))
        assert user is not None
        assert must_enrol_second_factor(user, require_mfa) is gated


def test_a_gated_user_signs_in_enrols_and_then_reaches_everything(roles_app: Flask) -> None:
    web = roles_app.test_client()
    organiser = Api(web, token_for(web, "organiser@unrcpd.example"))
    assert organiser.get("/api/v1/me").status_code == 200
    refused = organiser.get("/api/v1/reviews")
    assert refused.status_code == 403
    assert "enrol" in refused.json["detail"]
    enrol(organiser, away_from_a_step_edge())
    # The token it enrolled with is the token it goes on with.
    assert organiser.get("/api/v1/reviews").status_code == 200


def test_every_one_must_enrol_where_the_deployment_says_all(config: Config) -> None:
    app = populated(dataclasses.replace(config, require_mfa="all"))
    try:
        web = app.test_client()
        expert = Api(web, token_for(web, "expert@blr.example"))
        assert expert.get("/api/v1/reviews").json["type"] == ENROLMENT_REQUIRED
    finally:
        app.extensions["peerlex.db"].engine.dispose()


def test_require_mfa_comes_from_the_environment() -> None:
    assert Config.from_env({}).require_mfa == "roles"
    assert Config.from_env({"PEERLEX_REQUIRE_MFA": "all"}).require_mfa == "all"
    with pytest.raises(ValueError, match="PEERLEX_REQUIRE_MFA"):
        Config.from_env({"PEERLEX_REQUIRE_MFA": "everyone"})


@pytest.mark.parametrize(("require_mfa", "warned"), [("none", True), ("roles", False)])
def test_a_deployment_that_requires_no_second_factor_is_warned_about(
    config: Config, caplog: pytest.LogCaptureFixture, require_mfa: str, warned: bool
) -> None:
    with caplog.at_level(logging.WARNING, logger="server.app"):
        app = create_app(dataclasses.replace(config, require_mfa=require_mfa))
    app.extensions["peerlex.db"].engine.dispose()
    said = any("PEERLEX_REQUIRE_MFA=none" in r.getMessage() for r in caplog.records)
    assert said is warned
