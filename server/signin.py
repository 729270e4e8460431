"""Signing in and out: password guesses bounded per account, server-side sessions that expire.

Every password check first claims a slot: a row in `login_failures`, written and committed
under a lock on the account before the password is looked at, and deleted only when the
password proves right. A guess being checked therefore already counts, so however many requests
race (threads, worker processes, hosts), no more guesses are checked than the limits allow:
`MAX_PAIR_FAILURES` per account from one address and `MAX_ACCOUNT_FAILURES` per account from all
addresses, in any `WINDOW`. A guess past either limit is refused with 429 and Retry-After
without being checked. Failures for other accounts never refuse anyone: one address cannot lock
out the users who share it (docs/decisions.md). An unknown email is counted exactly like a
wrong password.

Sessions live in the database; the cookie holds a random id, so ending a session on the server
ends it everywhere at once. A session ends after `session_idle_minutes` without a request and
`session_max_hours` after sign-in, whatever the cookie says.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import ColumnElement, delete, func, select, text, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import TooManyRequests, Unauthorized

from server.config import Config
from server.db import Database, db_session
from server.errors import Problem
from server.models import LoginFailure, User, UserSession, utcnow
from server.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from server.services.errors import DomainError
from server.services.mfa import (
    MAX_CODE,
    WRONG_CODE_KIND,
    check_second_factor,
    has_second_factor,
)
from server.services.security_keys import REFUSED_KIND
from server.services.sessions import end_every_session as end_every_session

BAD_CREDENTIALS = "wrong email or password"
SECOND_FACTOR_NEEDED = (
    "this account has a second factor: send a code of your authenticator app, or a recovery "
    "code, as code"
)
WRONG_CODE = "wrong code, or a code used already"
WINDOW = timedelta(minutes=15)
# Wrong passwords checked for one account from one address, and from all addresses together.
MAX_PAIR_FAILURES = 5
MAX_ACCOUNT_FAILURES = 20
PRUNE_AT_ONCE = 100
SESSION_KEY = "sid"
# A web sign-in whose password was right waits this long for its second factor.
PASSWORD_STEP_KEY = "password_step"  # noqa: S105 - a cookie key, not a secret
PASSWORD_STEP_FOR = 300
# A session's last request is written at most this often (one small write per user a minute).
SEEN_EVERY = timedelta(minutes=1)
# Refusals of a second factor that count towards the sign-in limits: a wrong code, and a
# security key's answer that does not verify.
COUNTED_REFUSALS = frozenset({WRONG_CODE_KIND, REFUSED_KIND})


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _config() -> Config:
    config: Config = current_app.extensions["peerlex.config"]
    return config


def _dummy_hash() -> str:
    cached: str | None = current_app.extensions.get("peerlex.dummy_hash")
    if cached is None:
        cached = dummy_hash(_config().scrypt_n)
        current_app.extensions["peerlex.dummy_hash"] = cached
    return cached


def throttle_address(address: str) -> str:
    """The address as sign-in throttling counts it: an IPv6 client by its /64 network.

    One IPv6 host commonly holds a whole /64, so counting single addresses would give it
    billions of fresh budgets.
    """
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:
            return str(found.ipv4_mapped)
        return str(ipaddress.ip_network(f"{found}/64", strict=False))
    return str(found)


def _account_lock_key(email: str) -> int:
    # A PostgreSQL advisory lock key per account: 64 bits of a hash (collisions only serialise).
    digest = hashlib.sha256(b"peerlex sign-in\0" + email.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _slot_frees_at(
    claims: Session, where: ColumnElement[bool], limit: int, since: datetime
) -> datetime | None:
    """When a slot frees up, if `limit` claims inside the window already match `where`."""
    query = (
        select(LoginFailure.at)
        .where(where, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    oldest_that_counts: datetime | None = claims.scalar(query)
    return None if oldest_that_counts is None else oldest_that_counts + WINDOW


def _claim_attempt(email: str, address: str) -> None:
    """Count this guess before it is checked, or refuse it with 429 when a limit is reached.

    Runs in its own short transaction, committed before the (slow) password check so that
    every other worker sees the claim: on SQLite under the write lock (BEGIN IMMEDIATE), on
    PostgreSQL under a transaction advisory lock on the account, taken before the counting
    statements so that they see the claims committed by whoever held it before.
    """
    database: Database = current_app.extensions["peerlex.db"]
    now = utcnow()
    since = now - WINDOW
    with database.sessions() as claims:
        if not database.is_sqlite:
            claims.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _account_lock_key(email)}
            )
        # Claims out of every window count for nothing; dropping a few each time keeps the
        # table small. Rows another transaction is deleting are skipped, never waited for.
        stale = (
            select(LoginFailure.id)
            .where(LoginFailure.at <= since)
            .limit(PRUNE_AT_ONCE)
            .with_for_update(skip_locked=True)
        )
        claims.execute(delete(LoginFailure).where(LoginFailure.id.in_(stale)))
        account = LoginFailure.email == email
        pair = account & (LoginFailure.address == address)
        limits = ((pair, MAX_PAIR_FAILURES), (account, MAX_ACCOUNT_FAILURES))
        found = (_slot_frees_at(claims, where, limit, since) for where, limit in limits)
        frees_at = [at for at in found if at is not None]
        if frees_at:
            claims.commit()
            wait = int((max(frees_at) - now).total_seconds()) + 1
            raise TooManyRequests(
                "too many failed sign-ins; try again later", retry_after=max(wait, 1)
            )
        claims.add(LoginFailure(email=email, address=address, at=now))
        claims.commit()


class SecondFactorNeeded(Problem):
    """The password was right, but the account has a second factor and no right code came."""

    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, "mfa-required")


def authenticate(email: str, password: str, address: str, code: str | None = None) -> User:
    """Return the user for valid credentials, or raise 401 (wrong) or 429 (throttled).

    A user with a second factor also needs code: a code of their authenticator app or one of
    their recovery codes. A missing or wrong code leaves the claim standing, so it counts
    towards the same limits as a wrong password. A password stored with a lower scrypt cost
    than the configured one is hashed again, into the caller's transaction.
    """
    email = email.strip().lower()
    address = throttle_address(address)
    _claim_attempt(email, address)
    session_db = db_session()
    user = session_db.scalar(select(User).where(User.email == email))
    # The same scrypt work whether or not the account exists: no enumeration by timing.
    good = verify_password(password, user.password_hash if user else _dummy_hash())
    if user is None or not good or not user.active:
        # The claim stays: it is the failure.
        raise Unauthorized(BAD_CREDENTIALS)
    if has_second_factor(user):
        if not code:
            raise SecondFactorNeeded(SECOND_FACTOR_NEEDED)
        _accept_code(user, code)
    # Raised PEERLEX_SCRYPT_N reaches each stored password the next time it is typed.
    if needs_rehash(user.password_hash, _config().scrypt_n):
        user.password_hash = hash_password(password, _config().scrypt_n)
    # Right: this claim and the earlier failures from this address no longer count. Failures
    # from elsewhere still do, so that the user's sign-in gives no one else a fresh budget.
    _forget_failures(email, address)
    return user


def _accept_code(user: User, code: str) -> None:
    accepted = check_second_factor(user, code)
    if accepted is None:
        raise SecondFactorNeeded(WRONG_CODE)
    g.recovery_codes_left = accepted.recovery_codes_left


def remember_password_step(user: User, next_url: str | None) -> None:
    """After the right password of a user with a second factor, on a web page: who may now
    give their factor (in the signed cookie, for PASSWORD_STEP_FOR), and where to go after."""
    session.clear()
    session[PASSWORD_STEP_KEY] = {
        "user": user.id,
        "at": int(utcnow().timestamp()),
        "next": next_url or "",
    }


def _password_step() -> dict[str, object] | None:
    step = session.get(PASSWORD_STEP_KEY)
    if not isinstance(step, dict) or not isinstance(step.get("user"), int):
        return None
    at = step.get("at")
    if not isinstance(at, int) or not 0 <= utcnow().timestamp() - at < PASSWORD_STEP_FOR:
        return None
    return step


def password_step_user() -> User | None:
    """The user whose password was right a moment ago and who is to give a second factor."""
    step = _password_step()
    if step is None:
        return None
    user = db_session().get(User, step["user"])
    return user if user is not None and user.active and has_second_factor(user) else None


def password_step_next() -> str | None:
    """Where the sign-in that is waiting for a second factor was going."""
    step = _password_step()
    found = None if step is None else step.get("next")
    return found if isinstance(found, str) and found else None


def forget_password_step() -> None:
    session.pop(PASSWORD_STEP_KEY, None)


def second_step(user: User, code: str, address: str) -> None:
    """The code of a sign-in whose password was right a moment ago: counted as a sign-in
    attempt (429 past the limits), and a failure unless it is right. The caller commits."""
    email, address = user.email, throttle_address(address)
    _claim_attempt(email, address)
    _accept_code(user, code[:MAX_CODE])
    _forget_failures(email, address)


def _forget_failures(email: str, address: str) -> None:
    db_session().execute(
        delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.address == address)
    )


@contextmanager
def counted_code_check(user: User, address: str) -> Iterator[None]:
    """Count a second factor checked outside the password sign-in (removing a factor, a
    security key's answer) as a sign-in attempt: refused with 429 past the limits, and a
    failure if the block refuses the code or the key.

    Without it, whoever holds a stolen session could guess codes as fast as they can send them.
    """
    email, address = user.email, throttle_address(address)
    _claim_attempt(email, address)
    try:
        yield
    except DomainError as exc:
        if exc.kind not in COUNTED_REFUSALS:
            _forget_failures(email, address)
            db_session().commit()
        raise
    _forget_failures(email, address)
    db_session().commit()


def finish_second_step(user: User) -> str | None:
    """Start the session of a user who passed both steps of a web sign-in (commits); answers
    where the sign-in was going."""
    next_url = password_step_next()
    start_session(user)
    db_session().commit()
    return next_url


def recovery_codes_left() -> int | None:
    """After a sign-in with a second factor: how many recovery codes the user has left."""
    left: int | None = g.get("recovery_codes_left")
    return left


def start_session(user: User) -> None:
    """Log the user in with a fresh session id (never the one the client came with)."""
    sid, now = secrets.token_urlsafe(32), utcnow()
    db_session().add(
        UserSession(user_id=user.id, token_hash=_digest(sid), created_at=now, verified_at=now)
    )
    session.clear()
    session[SESSION_KEY] = sid
    login_user(user)


def _last_seen(record: UserSession) -> datetime:
    return record.last_seen_at or record.created_at


def _session_is_current(record: UserSession, now: datetime) -> bool:
    """Open, and within both the idle and the absolute limit."""
    config = _config()
    return (
        record.revoked_at is None
        and now - _last_seen(record) < timedelta(minutes=config.session_idle_minutes)
        and now - record.created_at < timedelta(hours=config.session_max_hours)
    )


def _mark_seen(record: UserSession, now: datetime) -> None:
    """Move the session's last request forward, in a short transaction of its own.

    Its own, because a GET request's session never commits; it runs while the request loads
    its user, before the request has written anything.
    """
    database: Database = current_app.extensions["peerlex.db"]
    with database.sessions() as own:
        # Conditional, so that workers serving one user's requests at once write once.
        since = now - SEEN_EVERY
        own.execute(
            update(UserSession)
            .where(
                UserSession.id == record.id,
                func.coalesce(UserSession.last_seen_at, UserSession.created_at) < since,
            )
            .values(last_seen_at=now)
        )
        own.commit()


def session_user(user_id: str) -> User | None:
    """flask-login's loader: the user, if the cookie's session is still current on the server."""
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str) or not user_id.isdigit():
        return None
    record = db_session().scalar(select(UserSession).where(UserSession.token_hash == _digest(sid)))
    now = utcnow()
    if record is None or record.user_id != int(user_id) or not _session_is_current(record, now):
        return None
    if now - _last_seen(record) >= SEEN_EVERY:
        _mark_seen(record, now)
    user = db_session().get(User, record.user_id)
    # Kept for the step-up check (server/auth.py), which asks when this sign-in was.
    g.user_session = record
    return user if user is not None and user.active else None


def end_session() -> None:
    """Log out of this session, on the server as well as in the cookie."""
    sid = session.get(SESSION_KEY)
    if isinstance(sid, str):
        db_session().execute(
            update(UserSession)
            .where(UserSession.token_hash == _digest(sid), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    logout_user()
    session.clear()
