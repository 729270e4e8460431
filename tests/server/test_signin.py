"""Sign-in throttling under concurrency, client addresses behind proxies, and session expiry."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from server import passwords, signin
from server.app import create_app
from server.auth import forwarded_client
from server.config import Config, parse_networks
from server.db import db_session
from server.models import LoginFailure, User, UserSession, utcnow
from server.passwords import hash_password
from tests.support.accounts import PASSWORD
from tests.support.api import Api
from tests.support.live_server import serving

WRONG = "wrong password!!"
# A hash that takes milliseconds to check, so that racing requests overlap while one is checked
# (the window in which a count taken before the check, and written after it, lets extra guesses
# through).
SLOW_SCRYPT_N = 2**13


def add_account(app: Flask, email: str) -> None:
    with app.app_context():
        db_session().add(User(email=email, password_hash=hash_password(PASSWORD, SLOW_SCRYPT_N)))
        db_session().commit()


def sign_in(client: FlaskClient, email: str, password: str, **environ: str) -> TestResponse:
    return client.post(
        "/api/v1/auth/tokens",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": "10.0.0.1", **environ},
    )


def failures(app: Flask, email: str) -> int:
    with app.app_context():
        query = select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email)
        return int(db_session().scalar(query) or 0)


def race(count: int, attempt: Callable[[int], int]) -> Counter[int]:
    """Run attempt(0..count-1) in as many threads, released at once; count the statuses."""
    barrier = threading.Barrier(count)

    def one(n: int) -> int:
        barrier.wait(60)
        return attempt(n)

    with ThreadPoolExecutor(count) as pool:
        return Counter(pool.map(one, range(count)))


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash the sign-in code checks (the real check still runs)."""
    seen: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored: str) -> bool:
        seen.append(stored)
        return real(password, stored)

    monkeypatch.setattr(signin, "verify_password", counting)
    return seen


# -- throttling -------------------------------------------------------------------------------


def test_parallel_guesses_from_one_address_check_at_most_the_limit(
    app: Flask, checked: list[str]
) -> None:
    """16 wrong passwords at once for one account from one address: 5 checked, 11 refused."""
    add_account(app, "target@blr.example")
    statuses = race(
        16, lambda _: sign_in(app.test_client(), "target@blr.example", WRONG).status_code
    )
    assert statuses == Counter({401: signin.MAX_PAIR_FAILURES, 429: 16 - signin.MAX_PAIR_FAILURES})
    assert len(checked) == signin.MAX_PAIR_FAILURES
    assert failures(app, "target@blr.example") == signin.MAX_PAIR_FAILURES


def test_parallel_guesses_from_many_addresses_check_at_most_the_account_limit(
    app: Flask, checked: list[str]
) -> None:
    """30 wrong passwords at once for one account, each from its own address: 20 checked."""
    add_account(app, "target@blr.example")

    def attempt(n: int) -> int:
        client = app.test_client()
        return sign_in(client, "target@blr.example", WRONG, REMOTE_ADDR=f"192.0.2.{n}").status_code

    limit = signin.MAX_ACCOUNT_FAILURES
    assert race(30, attempt) == Counter({401: limit, 429: 30 - limit})
    assert len(checked) == limit
    # The account stays closed to its own right password, from a fresh address too, until the
    # window passes: the bound on guesses holds for every address.
    refused = sign_in(app.test_client(), "target@blr.example", PASSWORD, REMOTE_ADDR="192.0.2.99")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60 + 1


def test_a_right_password_is_not_refused_for_the_guesses_of_others(
    world: dict[str, Api], client: FlaskClient
) -> None:
    """Guesses at many accounts from one address never refuse another account's sign-in."""
    shared = "203.0.113.10"
    for n in range(40):
        assert (
            sign_in(client, f"guess{n}@example.org", WRONG, REMOTE_ADDR=shared).status_code == 401
        )
    for _ in range(signin.MAX_PAIR_FAILURES):
        sign_in(client, "expert@kgz.example", WRONG, REMOTE_ADDR=shared)
    assert sign_in(client, "expert@kgz.example", PASSWORD, REMOTE_ADDR=shared).status_code == 429
    # Everyone else behind the same address signs in, and so does the guessed-at account from
    # anywhere else.
    assert sign_in(client, "expert@blr.example", PASSWORD, REMOTE_ADDR=shared).status_code == 201
    assert sign_in(client, "head@blr.example", PASSWORD, REMOTE_ADDR=shared).status_code == 201
    assert sign_in(
        client, "expert@kgz.example", PASSWORD, REMOTE_ADDR="198.51.100.1"
    ).status_code == (201)


def test_a_right_password_while_guesses_race_for_the_same_address(
    app: Flask, world: dict[str, Api]
) -> None:
    """Users sharing an address sign in while an attacker races guesses from it."""
    add_account(app, "target@blr.example")
    users = ["expert@blr.example", "head@blr.example", "expert@kgz.example"]
    users += ["organiser@unrcpd.example", "admin@peerlex.example"]

    def attempt(n: int) -> int:
        email, password = ("target@blr.example", WRONG) if n % 2 else (users[n // 2 % 5], PASSWORD)
        return sign_in(app.test_client(), email, password, REMOTE_ADDR="203.0.113.7").status_code

    statuses = race(16, attempt)
    assert statuses == Counter({201: 8, 401: signin.MAX_PAIR_FAILURES, 429: 3})


def test_a_right_password_forgives_only_its_own_address(app: Flask, world: dict[str, Api]) -> None:
    """A sign-in clears the failures from its address, not the budget of guesses elsewhere."""
    client = app.test_client()
    for _ in range(4):
        sign_in(client, "expert@blr.example", WRONG, REMOTE_ADDR="192.0.2.1")
    for _ in range(3):
        sign_in(client, "expert@blr.example", WRONG, REMOTE_ADDR="192.0.2.2")
    assert failures(app, "expert@blr.example") == 7
    assert sign_in(client, "expert@blr.example", PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == (
        201
    )
    assert failures(app, "expert@blr.example") == 3


def test_guesses_age_out_of_the_window(
    app: Flask, world: dict[str, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused account signs in again once its failures are 15 minutes old."""
    client = app.test_client()
    for _ in range(signin.MAX_PAIR_FAILURES):
        sign_in(client, "expert@blr.example", WRONG)
    refused = sign_in(client, "expert@blr.example", PASSWORD)
    assert refused.status_code == 429
    later = utcnow() + signin.WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(signin, "utcnow", lambda: later)
    assert sign_in(client, "expert@blr.example", PASSWORD).status_code == 201
    # Claims out of the window are dropped as new ones are made.
    assert failures(app, "expert@blr.example") == 0


def test_ipv6_clients_are_counted_by_their_64_network(app: Flask, world: dict[str, Api]) -> None:
    """A host that holds a /64 gets one budget, not one per address."""
    client = app.test_client()
    for n in range(signin.MAX_PAIR_FAILURES):
        sign_in(client, "expert@blr.example", WRONG, REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
    assert sign_in(
        client, "expert@blr.example", PASSWORD, REMOTE_ADDR="2001:db8:1:2:ffff::1"
    ).status_code == (429)
    assert sign_in(
        client, "expert@blr.example", PASSWORD, REMOTE_ADDR="2001:db8:1:3::1"
    ).status_code == (201)


# -- several worker processes -----------------------------------------------------------------


@contextmanager
def served(config: Config, **extra_env: str) -> Iterator[int]:
    """`peerlex-server run` with 4 gunicorn workers on config's data and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
    env.update(
        PEERLEX_DATA=str(config.data_dir),
        PEERLEX_SCRYPT_N=str(config.scrypt_n),
        PEERLEX_INSECURE_COOKIES="1",
        PEERLEX_REQUIRE_MFA=config.require_mfa,
        **extra_env,
    )
    if config.database_url:
        env["PEERLEX_DATABASE_URL"] = config.database_url
    with serving(env, config.data_dir.parent / "server.log", "--workers", "4") as (port, _):
        yield port


def post_credentials(port: int, email: str, password: str, forwarded_for: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            "/api/v1/auth/tokens",
            body=json.dumps({"email": email, "password": password}),
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_worker_processes_check_at_most_the_limits(app: Flask, config: Config) -> None:
    """Guesses spread over 4 gunicorn workers: no more checked than either limit."""
    for email in ("pair@blr.example", "account@blr.example"):
        add_account(app, email)
    with served(config, PEERLEX_TRUSTED_PROXIES="127.0.0.1") as port:
        one_address = race(
            16, lambda _: post_credentials(port, "pair@blr.example", WRONG, "198.51.100.5")
        )
        many_addresses = race(
            30,
            lambda n: post_credentials(port, "account@blr.example", WRONG, f"198.51.100.{n + 10}"),
        )
        others = post_credentials(port, "pair@blr.example", PASSWORD, "198.51.100.6")
    pair, account = signin.MAX_PAIR_FAILURES, signin.MAX_ACCOUNT_FAILURES
    assert one_address == Counter({401: pair, 429: 16 - pair})
    assert many_addresses == Counter({401: account, 429: 30 - account})
    # The forwarded address was believed: the same account from another address signs in.
    assert others == 201


# -- the client address behind proxies --------------------------------------------------------

PROXIES = parse_networks("10.0.0.0/8, 2001:db8:ffff::1")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # Nobody else's X-Forwarded-For is believed.
        ("192.0.2.1", [], "192.0.2.1"),
        ("192.0.2.1", ["198.51.100.1"], "192.0.2.1"),
        # The trusted proxy's is, from the right: what a client wrote itself stays unbelieved.
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["203.0.113.9, 198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["203.0.113.9", "198.51.100.1"], "198.51.100.1"),
        # Trusted hops are skipped, one after another.
        ("10.0.0.2", ["203.0.113.9, 198.51.100.1, 10.1.1.1"], "198.51.100.1"),
        ("2001:db8:ffff::1", ["2001:db8::7"], "2001:db8::7"),
        # A proxy with nothing to say, or something that is no address: the nearest hop.
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["unknown"], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1, _hidden, 10.0.0.3"], "10.0.0.3"),
        ("10.0.0.2", ["10.0.0.4"], "10.0.0.4"),
    ],
)
def test_the_client_address(peer: str, forwarded_for: list[str], client: str) -> None:
    """Only trusted proxies' entries are believed, read from the right."""
    assert forwarded_client(peer, forwarded_for, PROXIES) == client


def test_trusted_proxies_come_from_the_environment() -> None:
    config = Config.from_env({"PEERLEX_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert [str(n) for n in config.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert Config.from_env({}).trusted_proxies == ()
    with pytest.raises(ValueError, match="PEERLEX_TRUSTED_PROXIES"):
        Config.from_env({"PEERLEX_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"})


@pytest.fixture
def proxied_app(config: Config) -> Iterator[Flask]:
    application = create_app(dataclasses.replace(config, trusted_proxies=PROXIES))
    yield application
    application.extensions["peerlex.db"].engine.dispose()


def test_forwarded_for_is_honoured_from_a_trusted_proxy_only(proxied_app: Flask) -> None:
    """A forged X-Forwarded-For buys no fresh budget; a trusted proxy's names each client."""
    add_account(proxied_app, "target@blr.example")
    client = proxied_app.test_client()

    def through(peer: str, forwarded_for: str, password: str = WRONG) -> int:
        answer = client.post(
            "/api/v1/auth/tokens",
            json={"email": "target@blr.example", "password": password},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": peer},
        )
        return int(answer.status_code)

    # A client that forges a new address each time is still counted by its own address.
    forged = [through("192.0.2.50", f"198.51.100.{n}") for n in range(signin.MAX_PAIR_FAILURES)]
    assert forged == [401] * signin.MAX_PAIR_FAILURES
    assert through("192.0.2.50", "198.51.100.200", PASSWORD) == 429
    # Through the proxy, each client is counted by the address the proxy saw.
    for _ in range(signin.MAX_PAIR_FAILURES):
        assert through("10.0.0.2", "203.0.113.1") == 401
    assert through("10.0.0.2", "203.0.113.1", PASSWORD) == 429
    assert through("10.0.0.2", "203.0.113.2", PASSWORD) == 201


# -- session expiry ---------------------------------------------------------------------------


class Clock:
    """The time sign-in code reads, moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        monkeypatch.setattr(signin, "utcnow", lambda: self.now)

    def forward(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def log_in(client: FlaskClient, email: str = "expert@blr.example") -> None:
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.json


def signed_in_client(app: Flask, monkeypatch: pytest.MonkeyPatch) -> tuple[Clock, FlaskClient]:
    """A client of app signed in now, and the hand-moved clock its session is timed by."""
    clock = Clock(monkeypatch)
    client = app.test_client()
    log_in(client)
    return clock, client


def test_a_session_ends_after_30_idle_minutes(
    app: Flask, world: dict[str, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, client = signed_in_client(app, monkeypatch)
    clock.forward(minutes=29)
    assert client.get("/api/v1/me").status_code == 200
    # Each request starts the idle time again.
    clock.forward(minutes=29)
    assert client.get("/api/v1/me").status_code == 200
    clock.forward(minutes=30, seconds=1)
    assert client.get("/api/v1/me").status_code == 401


def test_a_session_ends_12_hours_after_sign_in_however_busy(
    app: Flask, world: dict[str, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, client = signed_in_client(app, monkeypatch)
    signed_in = clock.now
    while clock.now - signed_in < timedelta(hours=12) - timedelta(minutes=20):
        clock.forward(minutes=20)
        assert client.get("/api/v1/me").status_code == 200, clock.now - signed_in
    clock.forward(minutes=20)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/parties").status_code == 401


def test_session_limits_come_from_the_config(
    config: Config, world: dict[str, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny limits in the config are enforced by the server, whatever the cookie holds."""
    short = create_app(dataclasses.replace(config, session_idle_minutes=2, session_max_hours=1))
    try:
        clock, client = signed_in_client(short, monkeypatch)
        clock.forward(minutes=1, seconds=59)
        assert client.get("/api/v1/me").status_code == 200
        clock.forward(minutes=2)
        assert client.get("/api/v1/me").status_code == 401
    finally:
        short.extensions["peerlex.db"].engine.dispose()
    environ = {"PEERLEX_SESSION_IDLE_MINUTES": "5", "PEERLEX_SESSION_MAX_HOURS": "2"}
    from_env = Config.from_env(environ)
    assert (from_env.session_idle_minutes, from_env.session_max_hours) == (5, 2)
    assert (Config.from_env({}).session_idle_minutes, Config.from_env({}).session_max_hours) == (
        30,
        12,
    )
    with pytest.raises(ValueError, match="PEERLEX_SESSION_IDLE_MINUTES"):
        Config.from_env({"PEERLEX_SESSION_IDLE_MINUTES": "0"})


def test_an_old_session_row_is_refused_with_the_cookie_still_held(
    app: Flask, world: dict[str, Api]
) -> None:
    """The server decides from its own record: aging the row ends the session (real clock)."""
    client = app.test_client()
    log_in(client)
    assert client.get("/api/v1/me").status_code == 200

    def age(**values: datetime) -> None:
        with app.app_context():
            db_session().execute(update(UserSession).values(**values))
            db_session().commit()

    now = utcnow()
    age(last_seen_at=now - timedelta(minutes=31))
    assert client.get("/api/v1/me").status_code == 401
    age(last_seen_at=now, created_at=now - timedelta(hours=12, seconds=1))
    assert client.get("/api/v1/me").status_code == 401
    age(last_seen_at=now, created_at=now)
    assert client.get("/api/v1/me").status_code == 200
