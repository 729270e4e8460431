"""Ending a user's ways in: every cookie session and every API token, at once."""

from __future__ import annotations

from sqlalchemy import update

from server.db import db_session
from server.models import ApiToken, User, UserSession, utcnow


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
