"""Audit proofs: pages of entries with inclusion proofs, and consistency between tree sizes.

Who may read which entries is decided in server/permissions.py (audit_scope); the proof
formats are in docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys.merkle import MerkleTree, entry_leaf_hash
from server.db import db_session
from server.models import AuditEntry, User
from server.permissions import audit_scope, require_audit_reader, review_named
from server.services.audit.checkpoints import (
    SignedCheckpoint,
    ensure_recent_checkpoint,
    signed_checkpoint,
)
from server.services.audit.entries import LEAF_COLUMNS, leaf_fields
from server.services.errors import Corrupt, Invalid, NotFound


def _log_size(session: Session) -> int:
    found = session.scalar(select(func.max(AuditEntry.leaf_index)))
    return 0 if found is None else int(found) + 1


def _stored_tree(session: Session, size: int) -> MerkleTree:
    """The tree of the first `size` entries from their stored leaf hashes: O(size)."""
    query = (
        select(AuditEntry.leaf_hash)
        .where(AuditEntry.leaf_index < size)
        .order_by(AuditEntry.leaf_index)
        .execution_options(yield_per=5000)
    )
    try:
        tree = MerkleTree(bytes.fromhex(digest or "") for digest in session.scalars(query))
    except ValueError as exc:
        raise Corrupt("the audit log has a malformed leaf hash", "audit-log-corrupt") from exc
    if tree.size != size:
        raise Corrupt("the audit log is missing entries", "audit-log-corrupt")
    return tree


def _tree_size(session: Session, wanted: int | None, default: int, name: str) -> int:
    size = default if wanted is None else wanted
    available = _log_size(session)
    if size > available:
        message = f"the log has {available} entries"
        raise Invalid(message, "invalid-size", errors={name: [message]})
    return size


def _review_filter(rid: str, scope: set[int] | None) -> int:
    found = review_named(rid)
    if found is None or (scope is not None and found.id not in scope):
        raise NotFound("no such review, or you do not organise it")
    return found.id


@dataclass(frozen=True)
class ProvenEntry:
    """An entry's leaf fields and hash, with its inclusion proof (hex, leaf first)."""

    leaf: dict[str, Any]
    leaf_hash: str
    proof: list[str]


@dataclass(frozen=True)
class AuditPage:
    """Entries with their proofs in the tree of `size`; next_after pages on."""

    size: int
    root: str
    log_size: int
    checkpoint: SignedCheckpoint
    entries: list[ProvenEntry]
    next_after: int | None


@dataclass(frozen=True)
class Consistency:
    """Proof that the tree of from_ entries is a prefix of the tree of `to` entries."""

    from_: int
    to: int
    from_root: str
    to_root: str
    proof: list[str]


def audit_page(user: User, query: Mapping[str, Any]) -> AuditPage:
    """Entries the user may read, each with its inclusion proof in the tree of `size`."""
    scope = audit_scope(user)
    checkpoint = ensure_recent_checkpoint()
    session = db_session()
    size = _tree_size(session, query.get("size"), checkpoint.size, "size")
    after, limit = query["after"], query["limit"]
    wanted = (
        select(*LEAF_COLUMNS)
        .where(AuditEntry.leaf_index > after, AuditEntry.leaf_index < size)
        .order_by(AuditEntry.leaf_index)
        .limit(limit + 1)
    )
    if scope is not None:
        wanted = wanted.where(AuditEntry.review_id.in_(scope))
    if query.get("review"):
        wanted = wanted.where(AuditEntry.review_id == _review_filter(query["review"], scope))
    rows = [row._mapping for row in session.execute(wanted)]
    more = len(rows) > limit
    tree = _stored_tree(session, size)
    entries: list[ProvenEntry] = []
    for values in rows[:limit]:
        leaf = leaf_fields(values, values["leaf_index"])
        proof = [node.hex() for node in tree.inclusion_proof(leaf["index"], size)]
        entries.append(ProvenEntry(leaf, entry_leaf_hash(leaf).hex(), proof))
    return AuditPage(
        size,
        tree.root().hex(),
        _log_size(session),
        signed_checkpoint(checkpoint),
        entries,
        entries[-1].leaf["index"] if more else None,
    )


def consistency(user: User, query: Mapping[str, Any]) -> Consistency:
    """A proof that the tree of `from` entries is a prefix of the tree of `to` entries."""
    require_audit_reader(user)
    checkpoint = ensure_recent_checkpoint()
    session = db_session()
    new = _tree_size(session, query.get("to"), checkpoint.size, "to")
    old = query["from_"]
    if old > new:
        message = "from must not be larger than to"
        raise Invalid(message, "invalid-size", errors={"from": [message]})
    tree = _stored_tree(session, new)
    return Consistency(
        old,
        new,
        tree.root(old).hex(),
        tree.root().hex(),
        [node.hex() for node in tree.consistency_proof(old, new)],
    )
