"""Users and parties: what the API says about the caller and the parties it knows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.db import db_session
from server.models import Party, User


def me_payload(user: User, csrf_token: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "email": user.email,
        "name": user.name,
        "is_admin": user.is_admin,
        "memberships": [
            {"party": m.party.code, "role": m.role}
            for m in sorted(user.memberships, key=lambda m: m.party.code)
        ],
    }
    if csrf_token is not None:
        payload["csrf_token"] = csrf_token
    return payload


def list_parties() -> list[Party]:
    """Every party: codes and names are not secret among the users of a deployment."""
    return list(db_session().scalars(select(Party).order_by(Party.code)))
