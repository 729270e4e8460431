"""Second factors for tests: the code an authenticator app shows, and enrolling through the API."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from tests.support.api import Api

STEP = 30


def code_at(secret: str, when: float) -> str:
    """The 6-digit code an authenticator app shows at `when` (seconds since the epoch)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return TOTP(key, 6, SHA1(), STEP).generate(int(when)).decode()  # noqa: S303 - RFC 6238


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
