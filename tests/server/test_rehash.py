"""A password stored with an older, cheaper scrypt cost is hashed again when it is next typed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from server.app import create_app
from server.config import Config
from server.db import db_session
from server.models import User
from server.passwords import hash_password, needs_rehash, verify_password
from tests.support.accounts import PASSWORD, TEST_SCRYPT_N, add_party, add_user

EMAIL = "expert@blr.example"


@pytest.fixture
def raised(config: Config) -> Iterator[Flask]:
    """A deployment whose users were added before PEERLEX_SCRYPT_N was doubled."""
    app = create_app(config)
    add_party(app, "BLR")
    add_user(app, EMAIL, "BLR", "expert")
    app.extensions["peerlex.db"].engine.dispose()
    raised_app = create_app(dataclasses.replace(config, scrypt_n=TEST_SCRYPT_N * 2))
    yield raised_app
    raised_app.extensions["peerlex.db"].engine.dispose()


def stored_hash(app: Flask) -> str:
    with app.app_context():
        found = db_session().scalar(select(User.password_hash).where(User.email == EMAIL))
        assert found is not None
        return found


def test_signing_in_rehashes_at_the_configured_cost(raised: Flask) -> None:
    before = stored_hash(raised)
    assert before.split("$")[1] == str(TEST_SCRYPT_N)
    client = raised.test_client()
    wrong = client.post("/api/v1/auth/tokens", json={"email": EMAIL, "password": "not it at all"})
    assert wrong.status_code == 401
    assert stored_hash(raised) == before
    right = client.post("/api/v1/auth/tokens", json={"email": EMAIL, "password": PASSWORD})
    assert right.status_code == 201
    after = stored_hash(raised)
    assert after.split("$")[1] == str(TEST_SCRYPT_N * 2)
    assert verify_password(PASSWORD, after)
    # Signing in again changes nothing more.
    again = client.post("/api/v1/auth/tokens", json={"email": EMAIL, "password": PASSWORD})
    assert again.status_code == 201
    assert stored_hash(raised) == after


@pytest.mark.parametrize(
    ("stored", "n", "expected"),
    [
        (hash_password("x", 2**10), 2**10, False),
        (hash_password("x", 2**11), 2**10, False),
        (hash_password("x", 2**10), 2**11, True),
        ("bcrypt$whatever", 2**10, True),
        ("scrypt$x$8$1$a$b", 2**10, True),
    ],
)
def test_which_hashes_need_rehashing(stored: str, n: int, expected: bool) -> None:
    assert needs_rehash(stored, n) is expected
