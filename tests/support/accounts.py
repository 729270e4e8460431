"""Parties and users made straight in the database of an app under test, one function each."""

from __future__ import annotations

from flask import Flask

from server.db import db_session
from server.models import Membership, Party, User
from server.passwords import hash_password
from server.services.context import services

PASSWORD = "correct horse battery staple"
# Cheap scrypt for tests; production uses 2**15.
TEST_SCRYPT_N = 2**10


def add_party(app: Flask, code: str, kind: str = "state", name: str | None = None) -> None:
    """Add a party with its keys and its repository, as `peerlex-server party add` does."""
    with app.app_context():
        found = services()
        found.keys.create(code)
        found.store.create_repository(code)
        db_session().add(Party(code=code, name=name or f"Party {code}", kind=kind))
        db_session().commit()


def add_user(
    app: Flask, email: str, party: str | None, role: str, password: str = PASSWORD
) -> None:
    """Add a user with one membership (none for an admin), as `peerlex-server user add` does."""
    with app.app_context():
        session = db_session()
        user = User(
            email=email,
            password_hash=hash_password(password, TEST_SCRYPT_N),
            is_admin=role == "admin",
        )
        if party is not None:
            found = session.query(Party).filter_by(code=party).one()
            user.memberships.append(Membership(party=found, role=role))
        session.add(user)
        session.commit()
