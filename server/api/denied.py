"""Refused API requests as audit entries, and fresh checkpoints after writes (docs/audit.md).

Runs after each response is made: it reads the request (method, endpoint, query, the email a
sign-in tried) and the signed-in user, so it lives here, beside the routes, not in the services.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from server.permissions import review_named
from server.services.audit.checkpoints import ensure_recent_checkpoint
from server.services.audit.entries import AUDIT_WRITTEN, new_entry, own_session

log = logging.getLogger(__name__)
# API answers recorded as denied attempts (when the URL matches a route). A 409 (stale base,
# wrong state) is not an access decision and changes nothing, so it is not recorded.
DENIED_STATUSES = frozenset({401, 403, 404})


def _caller_email() -> str | None:
    user = current_user
    return user.email if user and user.is_authenticated else None


def _review_of_request(session: Session) -> int | None:
    rid = (request.view_args or {}).get("rid")
    if not isinstance(rid, str):
        return None
    found = review_named(rid, session)
    return None if found is None else found.id


def _record_denied(status: int, email: str | None) -> None:
    details: dict[str, Any] = {"status": status, "method": request.method}
    if request.query_string:
        details["query"] = request.query_string.decode("utf-8", "replace")[:500]
    if request.endpoint in ("auth.login", "auth.create_token"):
        body = request.get_json(silent=True)
        attempted = body.get("email") if isinstance(body, dict) else None
        if isinstance(attempted, str):
            details["email"] = attempted[:254]
    with own_session() as session:
        session.add(
            new_entry(
                email,
                f"{request.method} {request.endpoint or '-'}",
                request.path,
                "denied",
                _review_of_request(session),
                details,
            )
        )
        session.commit()


def _request_session() -> Session | None:
    found: Session | None = g.get("db_session")
    return found


def _release_request_session() -> None:
    # The response is made: what the request meant to keep is committed, and its session
    # would be rolled back when closed anyway. Ending its transaction now frees the SQLite
    # write lock it may hold, which the audit's own short transaction would otherwise wait on.
    pending = _request_session()
    if pending is not None and pending.in_transaction():
        pending.rollback()


def after_request(status: int, *, api: bool) -> None:
    """Record a denied API request and keep checkpoints fresh; log failures, never raise."""
    # A 404 for a URL that matches no route asked for nothing, so it is not an attempt.
    denied = api and status in DENIED_STATUSES and request.url_rule is not None
    session = _request_session()
    wrote = session is not None and session.info.get(AUDIT_WRITTEN, False)
    if not denied and not (status < 400 and wrote):
        return
    try:
        email = _caller_email() if denied else None
        _release_request_session()
        if denied:
            _record_denied(status, email)
        ensure_recent_checkpoint()
    except Exception:
        log.exception("audit: could not record %s %s (%s)", request.method, request.path, status)
