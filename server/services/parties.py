"""Parties looked up by code: the one place that turns a code from a request into a row."""

from __future__ import annotations

from sqlalchemy import select

from repo_store.names import check_party
from server.db import db_session
from server.models import Party
from server.services.errors import NotFound


def find_party(code: str) -> Party:
    """The party with this code, or 404."""
    check_party(code)
    party = db_session().scalar(select(Party).where(Party.code == code))
    if party is None:
        raise NotFound("no such party")
    return party
