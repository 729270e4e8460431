"""Second factors for tests: the code an authenticator app shows, and enrolling through the API."""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from flask import Flask

from server.app import create_app
from server.config import Config
from tests.support.accounts import add_party, add_user
from tests.support.api import Api

STEP = 30
ORGANISATIONS = {"UNRCPD", "OSCE", "GOE"}


def code_at(secret: str, when: float) -> str:
    """The 6-digit code an authenticator app shows at `when` (seconds since the epoch)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return TOTP(key, 6, SHA1(), STEP).generate(int(when)).decode()  # noqa: S303 - RFC 6238


def wrong_code_at(secret: str, when: float) -> str:
    """Six digits that are not the code at `when`."""
    return f"{(int(code_at(secret, when)) + 1) % 10**6:06d}"


def away_from_a_step_edge(margin: float = 3.0) -> float:
    """Now, after waiting out the end of a step, so that client and server agree on the step."""
    if STEP - time.time() % STEP < margin:
        time.sleep(STEP - time.time() % STEP + 0.05)
    return time.time()


@dataclass(frozen=True)
class Enrolled:
    factor_id: int
    secret: str
    recovery_codes: list[str]


def enrol(api: Api, when: float) -> Enrolled:
    """Enrol and confirm an authenticator for api's user, confirming with the code at when."""
    started = api.post("/api/v1/me/mfa/totp", json={"label": "phone"})
    assert started.status_code == 201, started.json
    secret = started.json["secret"]
    confirmed = api.post("/api/v1/me/mfa/totp/confirm", json={"code": code_at(secret, when)})
    assert confirmed.status_code == 200, confirmed.json
    return Enrolled(started.json["id"], secret, confirmed.json["recovery_codes"])


@contextmanager
def deployment(
    config: Config, require_mfa: str, users: Sequence[tuple[str, str | None, str]]
) -> Iterator[Flask]:
    """An app whose PEERLEX_REQUIRE_MFA is require_mfa, with the parties users belong to."""
    app = create_app(dataclasses.replace(config, require_mfa=require_mfa))
    try:
        for code in sorted({party for _email, party, _role in users if party}):
            add_party(app, code, "organisation" if code in ORGANISATIONS else "state")
        for email, member_of, role in users:
            add_user(app, email, member_of, role)
        yield app
    finally:
        app.extensions["peerlex.db"].engine.dispose()
