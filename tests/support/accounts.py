"""Parties and users for an app under test, made by the server's own accounts code."""

from __future__ import annotations

from flask import Flask

from server.services import users

PASSWORD = "correct horse battery staple"
# Cheap scrypt for tests; production uses 2**15.
TEST_SCRYPT_N = 2**10


def add_party(
    app: Flask, code: str, kind: str = "state", name: str | None = None, custody: str = "server"
) -> None:
    """Add a party with its keys and its repository, as `peerlex-server party add` does."""
    with app.app_context():
        users.add_party(code, name or f"Party {code}", kind, custody)


def add_user(
    app: Flask, email: str, party: str | None, role: str, password: str = PASSWORD
) -> None:
    """Add a user with one membership (none for an admin), as `peerlex-server user add` does."""
    with app.app_context():
        users.add_user(email, password, role, party)
