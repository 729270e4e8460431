"""Audit entries: each write and denied attempt appended as a leaf of the audit log's tree.

Writes are recorded in the same transaction as the write itself; denied API requests in their
own short one (server/api/denied.py). The leaf format is in docs/audit.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event, func, select, text, update
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import set_committed_value

from keys.merkle import entry_leaf_hash
from server.db import db_session
from server.models import AuditEntry, User, utcnow
from server.services.context import request_id, services

# The key, in a request's session info, that says the request wrote to the log.
AUDIT_WRITTEN = "peerlex_audit_written"
# Serialises leaf numbering across PostgreSQL transactions (SQLite has one writer anyway).
_PG_LOCK_KEY = 0x7065_6572_6C65_78
LEAF_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.user_email,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.review_id,
    AuditEntry.request_id,
    AuditEntry.outcome,
    AuditEntry.details,
    AuditEntry.leaf_index,
    AuditEntry.leaf_hash,
)


def checkpoint_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_fields(values: Mapping[Any, Any], index: int) -> dict[str, Any]:
    """The fields of an audit entry that its leaf hash covers (docs/audit.md)."""
    try:
        details: Any = json.loads(values["details"])
    except (TypeError, ValueError):
        details = values["details"]
    return {
        "index": index,
        "at": _entry_time(values["at"]),
        "user": values["user_email"],
        "action": values["action"],
        "target": values["target"],
        "review_id": values["review_id"],
        "request_id": values["request_id"],
        "outcome": values["outcome"],
        "details": details,
    }


def _values(entry: AuditEntry) -> dict[str, Any]:
    return {column.key: getattr(entry, column.key) for column in LEAF_COLUMNS}


@event.listens_for(AuditEntry, "after_insert")
def _seal(_mapper: Mapper[AuditEntry], connection: Connection, entry: AuditEntry) -> None:
    """Number the new entry and store its leaf hash, inside the inserting transaction.

    Runs after the INSERT, when the transaction holds SQLite's write lock, so the next index is
    read from the committed log and no two entries share one.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    index = int(
        connection.scalar(select(func.coalesce(func.max(AuditEntry.leaf_index), -1) + 1)) or 0
    )
    digest = entry_leaf_hash(leaf_fields(_values(entry), index)).hex()
    connection.execute(
        update(AuditEntry)
        .where(AuditEntry.id == entry.id)
        .values(leaf_index=index, leaf_hash=digest)
    )
    set_committed_value(entry, "leaf_index", index)
    set_committed_value(entry, "leaf_hash", digest)


def new_entry(
    user_email: str | None,
    action: str,
    target: str,
    outcome: str,
    review_id: int | None,
    details: Mapping[str, Any],
) -> AuditEntry:
    return AuditEntry(
        at=utcnow(),
        user_email=user_email,
        action=action[:64],
        target=target[:300],
        review_id=review_id,
        request_id=request_id(),
        outcome=outcome,
        details=json.dumps(details, sort_keys=True, ensure_ascii=False, default=str),
    )


def record(
    user: User | None,
    action: str,
    target: str,
    *,
    outcome: str = "ok",
    review_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry, by user, to the open transaction of the current request."""
    entry = new_entry(user.email if user else None, action, target, outcome, review_id, details)
    session = db_session()
    session.add(entry)
    # Read once the response is made, to keep checkpoints fresh (server/api/denied.py).
    session.info[AUDIT_WRITTEN] = True
    return entry


def own_session() -> Session:
    return services().database.sessions()
