"""The audit trail: every write is recorded in the same transaction as the write itself."""

from __future__ import annotations

import json
from typing import Any

from flask import g
from flask_login import current_user

from server.db import db_session
from server.models import AuditEntry


def record(
    action: str, target: str, *, outcome: str = "ok", review_id: int | None = None, **details: Any
) -> AuditEntry:
    """Add an audit entry for the current request to the open transaction."""
    user = current_user
    entry = AuditEntry(
        user_email=user.email if user and user.is_authenticated else None,
        action=action,
        target=target,
        review_id=review_id,
        request_id=g.get("request_id", "-"),
        outcome=outcome,
        details=json.dumps(details, sort_keys=True, ensure_ascii=False, default=str),
    )
    db_session().add(entry)
    return entry
