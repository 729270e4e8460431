"""schemathesis against the generated OpenAPI document, in-process, once per role.

No generated request may get a 5xx, and every documented response must match its schema.
Bounded: a fixed seed and a fixed number of examples per operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok

from keys.master import create_master_key
from server.app import create_app
from server.config import Config
from tests.server.review_fixtures import LAW_V1, LAW_V2, USERS, ReviewWorld, seed_review_world
from tests.support.accounts import TEST_SCRYPT_N
from tests.support.api import token_for
from tests.support.bounded_fuzz import run_bounded
from tests.support.ssh_user_keys import PUBLIC_KEY

ROLES = ("anonymous", "own", "peer", "organiser", "observer", "admin")
EXAMPLES_PER_OPERATION = 12


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict[str, str]]]:
    data: Path = tmp_path_factory.mktemp("fuzz") / "data"
    data.mkdir()
    create_master_key(data / "master.key")
    app = create_app(
        Config(data_dir=data, scrypt_n=TEST_SCRYPT_N, secure_cookies=False, require_mfa="none")
    )
    client = app.test_client()
    world: ReviewWorld = seed_review_world(app, client)
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    world.share(v1)
    world.share(v2)
    world["peer"].post(
        world.url("/comments"),
        json={
            "party": "BLR",
            "slug": "export-law",
            "version": v2,
            "quote": "экспорт",
            "body": "Why?",
        },
    )
    # A registered key, so that the key routes answer with content too.
    world["own"].post("/api/v1/me/keys", json={"public_key": PUBLIC_KEY})
    tokens = {role: token_for(client, USERS[role][0]) for role in ROLES if role != "anonymous"}
    yield app, tokens
    app.extensions["peerlex.db"].engine.dispose()


def test_no_server_errors_and_schema_conformance(fuzz_app: tuple[Flask, dict[str, str]]) -> None:
    """Every operation, generated requests sent once as every role; count what was sent."""
    app, tokens = fuzz_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    sent = 0

    def check(case: Any) -> None:
        nonlocal sent
        # Token revocation would end the role's session for every later case: skip that one.
        if case.method == "DELETE" and case.path == "/api/v1/auth/tokens":
            return
        for role in ROLES:
            headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
            response = case.call(headers=headers)
            sent += 1
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) > 20
    for operation in operations:
        run_bounded(operation, check, EXAMPLES_PER_OPERATION)
    assert sent >= 2000, sent
