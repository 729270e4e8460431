"""Signing in and out: credential checks with throttling and lockout, server-side sessions.

A failed sign-in is recorded for the account (whether it exists or not, so that an unknown
email behaves exactly as a wrong password) and for the client address. Too many failures in the
window lock the account, or the address, until the oldest one ages out: 429 with Retry-After.
Sessions live in the database; the cookie holds a random id, so ending a session on the server
ends it everywhere at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.exceptions import TooManyRequests, Unauthorized

from server.db import db_session
from server.models import ApiToken, LoginFailure, User, UserSession, utcnow
from server.passwords import dummy_hash, verify_password

BAD_CREDENTIALS = "wrong email or password"
WINDOW = timedelta(minutes=15)
MAX_ACCOUNT_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
SESSION_KEY = "sid"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _dummy_hash() -> str:
    cached: str | None = current_app.extensions.get("peerlex.dummy_hash")
    if cached is None:
        cached = dummy_hash(current_app.extensions["peerlex.config"].scrypt_n)
        current_app.extensions["peerlex.dummy_hash"] = cached
    return cached


def _throttle(column: InstrumentedAttribute[str], value: str, limit: int) -> None:
    """Refuse with 429 while value has limit or more failures inside the window."""
    since = utcnow() - WINDOW
    count, oldest = (
        db_session()
        .execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                column == value,
                LoginFailure.at > since,
            )
        )
        .one()
    )
    if count >= limit:
        wait = int((oldest + WINDOW - utcnow()).total_seconds()) + 1
        raise TooManyRequests("too many failed sign-ins; try again later", retry_after=max(wait, 1))


def authenticate(email: str, password: str, address: str) -> User:
    """Return the user for valid credentials, or raise 401 (wrong) or 429 (locked out)."""
    email = email.strip().lower()
    address = address[:64]
    _throttle(LoginFailure.email, email, MAX_ACCOUNT_FAILURES)
    _throttle(LoginFailure.address, address, MAX_ADDRESS_FAILURES)
    session_db = db_session()
    user = session_db.scalar(select(User).where(User.email == email))
    # The same scrypt work whether or not the account exists: no enumeration by timing.
    good = verify_password(password, user.password_hash if user else _dummy_hash())
    if user is None or not good or not user.active:
        session_db.add(LoginFailure(email=email, address=address))
        session_db.commit()
        raise Unauthorized(BAD_CREDENTIALS)
    session_db.execute(delete(LoginFailure).where(LoginFailure.email == email))
    return user


def start_session(user: User) -> None:
    """Log the user in with a fresh session id (never the one the client came with)."""
    sid = secrets.token_urlsafe(32)
    db_session().add(UserSession(user_id=user.id, token_hash=_digest(sid)))
    session.clear()
    session[SESSION_KEY] = sid
    login_user(user)


def session_user(user_id: str) -> User | None:
    """flask-login's loader: the user, if the cookie's session is still open on the server."""
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str) or not user_id.isdigit():
        return None
    record = db_session().scalar(select(UserSession).where(UserSession.token_hash == _digest(sid)))
    if record is None or record.revoked_at is not None or record.user_id != int(user_id):
        return None
    user = db_session().get(User, record.user_id)
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


def end_every_session(user: User) -> None:
    """End all the user's sessions and revoke all their API tokens (logout everywhere, disable)."""
    now = utcnow()
    db = db_session()
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
