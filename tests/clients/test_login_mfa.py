"""`peerlex login` for an account with a second factor: the code is asked for after the password
(the next line of stdin when it is not a terminal), and refused codes end in one plain line."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest

from clients.cli.exits import EXIT_AUTH, EXIT_INVALID, EXIT_OK
from tests.support.live_server import (
    DEMO_PASSWORD,
    PEERLEX,
    LiveServer,
    live_server,
    one_error_line,
)
from tests.support.second_factor import away_from_a_step_edge, code_at

HEAD = "head@kgz.example"


class Factor(NamedTuple):
    """The head's authenticator secret, recovery codes, and when its first code was used."""

    secret: str
    recovery_codes: list[str]
    confirmed_at: float


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo, where heads, organisers and admins must hold a second factor."""
    with live_server(tmp_path_factory.mktemp("live-mfa"), PEERLEX_REQUIRE_MFA="roles") as running:
        yield running


def peerlex(server: LiveServer, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PEERLEX, "--profile", "mfa", *args],
        input=stdin,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def peerlex_login(server: LiveServer, stdin: str) -> subprocess.CompletedProcess[str]:
    return peerlex(server, "login", "--email", HEAD, stdin=stdin)


@pytest.fixture(scope="module")
def enrolled(server: LiveServer) -> Factor:
    """The head enrols an authenticator, refused everything else before."""
    with httpx.Client(base_url=server.url + "/api/v1") as http:
        signed_in = http.post("/auth/tokens", json={"email": HEAD, "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        refused = http.get("/reviews", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/mfa-enrolment-required")
        secret = http.post("/me/mfa/totp", json={}, headers=headers).json()["secret"]
        now = away_from_a_step_edge()
        confirmed = http.post(
            "/me/mfa/totp/confirm", json={"code": code_at(secret, now)}, headers=headers
        )
        assert confirmed.status_code == 200, confirmed.text
    return Factor(secret, confirmed.json()["recovery_codes"], now)


def test_login_without_a_code_on_stdin_is_refused(server: LiveServer, enrolled: Factor) -> None:
    done = peerlex_login(server, DEMO_PASSWORD + "\n")
    assert one_error_line(done, EXIT_INVALID) == "peerlex: error: no code on standard input"


def test_login_with_a_wrong_code_is_refused(server: LiveServer, enrolled: Factor) -> None:
    done = peerlex_login(server, DEMO_PASSWORD + "\n000000x\n")
    assert one_error_line(done, EXIT_AUTH) == "peerlex: error: login refused: wrong code"


def test_login_with_the_code_after_the_password(server: LiveServer, enrolled: Factor) -> None:
    code = code_at(enrolled.secret, enrolled.confirmed_at + 30)
    done = peerlex_login(server, f"{DEMO_PASSWORD}\n{code}\n")
    assert done.returncode == EXIT_OK, done.stderr
    assert f"logged in to {server.url} as {HEAD}" in done.stdout
    reviews = peerlex(server, "reviews")
    assert reviews.returncode == EXIT_OK, reviews.stderr


def test_login_with_a_recovery_code_says_how_many_are_left(
    server: LiveServer, enrolled: Factor
) -> None:
    recovery = enrolled.recovery_codes[0]
    done = peerlex_login(server, f"{DEMO_PASSWORD}\n{recovery}\n")
    assert done.returncode == EXIT_OK, done.stderr
    assert "a recovery code was used; 9 left" in done.stdout
    again = peerlex_login(server, f"{DEMO_PASSWORD}\n{recovery}\n")
    assert one_error_line(again, EXIT_AUTH) == "peerlex: error: login refused: wrong code"
