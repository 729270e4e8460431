"""`peerlex mfa` against a served demo where heads and organisers must hold a second factor:
enrolling (the code read from stdin), listing, removing, the refusal that says to enrol, and the
fresh code that building a bundle asks for after 15 minutes (step-up)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from clients.cli.exits import EXIT_AUTH, EXIT_CONFLICT, EXIT_INVALID, EXIT_OK
from server.models import ApiToken, utcnow
from tests.support.live_server import (
    DEMO_PASSWORD,
    PEERLEX,
    LiveServer,
    live_server,
    one_error_line,
)
from tests.support.second_factor import away_from_a_step_edge, code_at, wrong_code_at

SECRET_LINE = re.compile(r"^secret \(base32, [^)]*\): ([A-Z2-7]+)$", re.M)
RECOVERY_LINE = re.compile(r"^  ([A-Z2-7]{4}(?:-[A-Z2-7]{4})+)$", re.M)


class Enrolled(NamedTuple):
    secret: str
    recovery_codes: list[str]
    confirmed_at: float
    stdout: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("mfa-cli"), PEERLEX_REQUIRE_MFA="roles") as running:
        yield running


def peerlex(
    server: LiveServer, profile: str, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PEERLEX, "--profile", profile, *args],
        input=stdin,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def log_in(server: LiveServer, profile: str, email: str, code: str | None = None) -> None:
    stdin = DEMO_PASSWORD + "\n" + (f"{code}\n" if code else "")
    done = peerlex(server, profile, "login", "--email", email, stdin=stdin)
    assert done.returncode == EXIT_OK, done.stderr


def enrol(server: LiveServer, profile: str, *args: str) -> Enrolled:
    """`peerlex mfa enrol`, answering its prompt with the code of the secret it printed."""
    with subprocess.Popen(
        [PEERLEX, "--profile", profile, "mfa", "enrol", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server.env,
        text=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        first = process.stdout.readline()
        found = SECRET_LINE.match(first)
        assert found is not None, first
        now = away_from_a_step_edge()
        # Read on from the same buffered stream: communicate() would skip what it holds.
        process.stdin.write(code_at(found.group(1), now) + "\n")
        process.stdin.close()
        out, err = process.stdout.read(), process.stderr.read()
    assert process.returncode == EXIT_OK, err
    return Enrolled(found.group(1), RECOVERY_LINE.findall(out), now, first + out)


def next_code(enrolled: Enrolled) -> str:
    """A code the server has not taken yet: of a later step than the one that confirmed."""
    return code_at(enrolled.secret, max(away_from_a_step_edge(), enrolled.confirmed_at + 30))


def age_tokens(server: LiveServer, minutes: int) -> None:
    """Make every API token look issued `minutes` ago (a sign-in older than step-up allows)."""
    engine = create_engine(f"sqlite:///{server.data / 'peerlex.db'}")
    try:
        with Session(engine) as session:
            then = utcnow() - timedelta(minutes=minutes)
            session.execute(update(ApiToken).values(created_at=then))
            session.commit()
    finally:
        engine.dispose()


def test_a_head_without_a_factor_is_told_to_enrol(server: LiveServer) -> None:
    log_in(server, "head-tjk", "head@tjk.example")
    done = peerlex(server, "head-tjk", "reviews")
    assert one_error_line(done, EXIT_AUTH) == (
        "peerlex: error: your role needs a second factor: run "
        "`peerlex --profile head-tjk mfa enrol` (an authenticator app's codes)"
    )


def test_enrol_shows_the_secret_then_the_recovery_codes_once(server: LiveServer) -> None:
    log_in(server, "head-blr", "head@blr.example")
    enrolled = enrol(server, "head-blr", "--label", "phone")
    assert "otpauth URI (for a QR code): otpauth://totp/" in enrolled.stdout
    assert f"secret={enrolled.secret}" in enrolled.stdout
    assert len(enrolled.recovery_codes) == 10
    assert "store them offline" in enrolled.stdout
    # The gate is open: the same login now reaches the reviews.
    assert peerlex(server, "head-blr", "reviews").returncode == EXIT_OK
    listed = peerlex(server, "head-blr", "mfa", "list")
    assert listed.returncode == EXIT_OK, listed.stderr
    assert re.search(r"^\d+ +totp +phone +confirmed \S+$", listed.stdout, re.M), listed.stdout
    assert "10 recovery code(s) left" in listed.stdout
    as_json = json.loads(peerlex(server, "head-blr", "mfa", "list", "--json").stdout)
    assert [f["label"] for f in as_json["factors"]] == ["phone"]
    assert as_json["recovery_codes_left"] == 10
    # A new sign-in asks for a code: the next step's, as the first one is used up.
    log_in(server, "head-blr", "head@blr.example", next_code(enrolled))


def test_enrol_later_then_confirm_from_stdin(server: LiveServer) -> None:
    log_in(server, "osce", "organiser@osce.example")
    started = peerlex(server, "osce", "mfa", "enrol", "--later", "-q")
    assert started.returncode == EXIT_OK, started.stderr
    secret = started.stdout.strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), started.stdout
    pending = peerlex(server, "osce", "mfa", "list")
    assert re.search(r"^\d+ +totp +- +pending$", pending.stdout, re.M), pending.stdout
    wrong = peerlex(
        server,
        "osce",
        "mfa",
        "confirm",
        stdin=wrong_code_at(secret, away_from_a_step_edge()) + "\n",
    )
    assert one_error_line(wrong, EXIT_INVALID).startswith(
        "peerlex: error: invalid input: wrong code"
    )
    confirmed = peerlex(
        server, "osce", "mfa", "confirm", stdin=code_at(secret, away_from_a_step_edge()) + "\n"
    )
    assert confirmed.returncode == EXIT_OK, confirmed.stderr
    assert len(RECOVERY_LINE.findall(confirmed.stdout)) == 10
    no_code = peerlex(server, "osce", "mfa", "confirm")
    assert one_error_line(no_code, EXIT_INVALID) == "peerlex: error: no code on standard input"


def test_remove_keeps_the_last_factor_of_a_head_and_removes_another(server: LiveServer) -> None:
    log_in(server, "head-kgz", "head@kgz.example")
    first = enrol(server, "head-kgz", "--label", "phone")
    factors = json.loads(peerlex(server, "head-kgz", "mfa", "list", "--json").stdout)["factors"]
    (only,) = (f["id"] for f in factors)
    refused = peerlex(
        server, "head-kgz", "mfa", "remove", str(only), stdin=first.recovery_codes[0] + "\n"
    )
    assert one_error_line(refused, EXIT_CONFLICT).startswith(
        "peerlex: error: conflict: your role needs a second factor"
    )
    second = enrol(server, "head-kgz", "--label", "tablet")
    # Enrolling again issued new recovery codes; one of them proves the removal.
    removed = peerlex(
        server, "head-kgz", "mfa", "remove", str(only), stdin=second.recovery_codes[0] + "\n"
    )
    assert removed.returncode == EXIT_OK, removed.stderr
    assert f"second factor {only} removed" in removed.stdout
    listed = peerlex(server, "head-kgz", "mfa", "list")
    assert "tablet" in listed.stdout
    assert "phone" not in listed.stdout
    assert "9 recovery code(s) left" in listed.stdout


def test_building_a_bundle_after_15_minutes_asks_for_a_fresh_code(server: LiveServer) -> None:
    log_in(server, "unrcpd", "organiser@unrcpd.example")
    enrolled = enrol(server, "unrcpd")
    age_tokens(server, 20)
    no_code = peerlex(server, "unrcpd", "bundle", "build", "dushanbe-2017")
    assert one_error_line(no_code, EXIT_INVALID) == "peerlex: error: no code on standard input"
    wrong = peerlex(server, "unrcpd", "bundle", "build", "dushanbe-2017", "--code", "000000x")
    assert one_error_line(wrong, EXIT_AUTH).startswith(
        "peerlex: error: a fresh second factor is needed: wrong code"
    )
    # The code on stdin passes the step-up; the review, still under discussion, is refused.
    fresh = next_code(enrolled)
    asked = peerlex(server, "unrcpd", "bundle", "build", "dushanbe-2017", stdin=fresh + "\n")
    assert one_error_line(asked, EXIT_CONFLICT).startswith("peerlex: error: conflict:")
