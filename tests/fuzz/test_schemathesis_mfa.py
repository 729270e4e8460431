"""schemathesis over second factors, in-process, where heads must hold one (PEERLEX_REQUIRE_MFA
=roles): the enrolment routes and token sign-in as a head without a factor, a head with one and
an expert; then every operation as the head without one, which the gate must refuse with the
403 the OpenAPI document describes.

No generated request may get a 5xx, and every response must match its documented status and
schema. Bounded: a fixed seed and a fixed number of examples per operation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from keys.master import create_master_key
from server.auth import ENROLMENT_ENDPOINTS, PUBLIC_ENDPOINTS
from server.config import Config
from tests.support.accounts import PASSWORD, TEST_SCRYPT_N
from tests.support.api import Api, token_for
from tests.support.bounded_fuzz import run_bounded
from tests.support.second_factor import away_from_a_step_edge, code_at, deployment, enrol

GATED, ENROLLED, EXPERT = "head@blr.example", "head@kgz.example", "expert@blr.example"
USERS = [(GATED, "BLR", "head"), (ENROLLED, "KGZ", "head"), (EXPERT, "BLR", "expert")]
SECOND_FACTOR_PATHS = ("/api/v1/me/mfa", "/api/v1/auth/tokens", "/api/v1/auth/login")
# Ways out that would end the caller's own token for every later case.
ENDS_THE_TOKEN = {
    ("DELETE", "/api/v1/auth/tokens"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/logout-everywhere"),
}
RULE_ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
EXAMPLES_PER_OPERATION = 12
EXAMPLES_PER_GATED_OPERATION = 3
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture(scope="module")
def mfa_fuzz_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Flask, dict[str, str], str]]:
    """A deployment with heads and an expert; KGZ's head enrolled. Answers the app, each user's
    token, and the enrolled head's secret."""
    data: Path = tmp_path_factory.mktemp("fuzz-mfa") / "data"
    data.mkdir()
    create_master_key(data / "master.key")
    config = Config(data_dir=data, scrypt_n=TEST_SCRYPT_N, secure_cookies=False)
    with deployment(dataclasses.replace(config, require_mfa="none"), "roles", USERS) as app:
        client = app.test_client()
        tokens = {email: token_for(client, email) for email, _party, _role in USERS}
        enrolled = enrol(Api(client, tokens[ENROLLED]), away_from_a_step_edge())
        yield app, tokens, enrolled.secret


def operations_under(app: Flask, wanted: Callable[[str], bool]) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        if wanted(result.ok().path):
            found.append(result.ok())
    return found


def reachable_unenrolled(app: Flask) -> set[str]:
    """The paths the gate lets a user who must enrol reach: public ones, and enrolling."""
    return {
        RULE_ARGUMENT.sub(r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint in PUBLIC_ENDPOINTS | ENROLMENT_ENDPOINTS
    }


def test_second_factor_routes_as_each_user(
    mfa_fuzz_app: tuple[Flask, dict[str, str], str],
) -> None:
    """The routes of second factors and sign-in: no 5xx, every answer documented."""
    app, tokens, secret = mfa_fuzz_app
    statuses: dict[tuple[str, str], set[int]] = {}

    def check(case: Any) -> None:
        if (case.method, case.path) in ENDS_THE_TOKEN:
            return
        for token in tokens.values():
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            statuses.setdefault((case.method, case.path), set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS)

    operations = operations_under(app, lambda path: path.startswith(SECOND_FACTOR_PATHS))
    assert len(operations) >= 6
    for operation in operations:
        run_bounded(operation, check, EXAMPLES_PER_OPERATION)
    # Signing in with a code, the path generated requests cannot find: right, missing, wrong.
    (sign_in,) = (o for o in operations if (o.method, o.path) == ("post", "/api/v1/auth/tokens"))
    code = code_at(secret, away_from_a_step_edge() + 30)
    for body, status in [
        ({"email": ENROLLED, "password": PASSWORD, "code": code}, 201),
        ({"email": ENROLLED, "password": PASSWORD}, 401),
        ({"email": ENROLLED, "password": PASSWORD, "code": code}, 401),  # used once already
        ({"email": GATED, "password": PASSWORD, "code": "123456"}, 201),  # no factor: no code
    ]:
        case = sign_in.Case(body=body, media_type="application/json")
        response = case.call()
        assert response.status_code == status, (body, response.text)
        case.validate_response(response, checks=CHECKS)
    assert {200, 201, 401, 422} <= set().union(*statuses.values()), statuses
    # Each status these routes answered is documented for them, not only by `default`.
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert spec is not None
    paths = spec["paths"]
    undocumented = {
        (method, path, status)
        for (method, path), answered in statuses.items()
        for status in answered
        if str(status) not in paths[path][method.lower()]["responses"]
    }
    assert not undocumented, sorted(undocumented)


def test_every_other_route_refuses_a_head_without_a_factor(
    mfa_fuzz_app: tuple[Flask, dict[str, str], str],
) -> None:
    """The gate answers every route but enrolling with its documented 403, and nothing else."""
    app, tokens, _secret = mfa_fuzz_app
    headers = {"Authorization": f"Bearer {tokens[GATED]}"}
    sent = 0

    def check(case: Any) -> None:
        nonlocal sent
        response = case.call(headers=headers)
        sent += 1
        case.validate_response(response, checks=CHECKS)
        assert response.status_code == 403, (case.method, case.path, response.text)
        assert response.json()["type"].endswith("/mfa-enrolment-required")

    reachable = reachable_unenrolled(app)
    assert {"/api/v1/me", "/api/v1/me/mfa/totp", "/api/v1/healthz"} <= reachable
    operations = operations_under(app, lambda path: path not in reachable)
    assert len(operations) > 20
    for operation in operations:
        run_bounded(operation, check, EXAMPLES_PER_GATED_OPERATION)
    assert sent >= 3 * len(operations), sent
