"""The audit log: every write and denied attempt as a leaf of a Merkle tree with signed heads.

Writes are recorded in the same transaction as the write itself; denied API requests in their
own short one. Leaf, tree and checkpoint formats are in docs/audit.md.
"""

from __future__ import annotations

import fcntl
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy import Connection, event, func, select, text, update
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import NotFound

from keys import sshsig
from keys.merkle import (
    DEPLOYMENT_PARTY,
    CheckpointError,
    MerkleTree,
    checkpoint_statement,
    entry_leaf_hash,
    parse_checkpoint,
)
from keys.party_keys import KeyStore, KeyStoreError, PartyKeys
from keys.protocol import AUDIT_NAMESPACE, principal
from server.db import Database, db_session
from server.errors import Problem
from server.models import (
    AuditCheckpoint,
    AuditEntry,
    User,
    utcnow,
)
from server.permissions import audit_scope, require_admin, require_audit_reader, review_named
from server.services.context import services

log = logging.getLogger(__name__)
# No scheduler runs beside the server: a checkpoint is made at an audit read or write once the
# newest is this old (and on demand, and by `peerlex-server audit checkpoint`).
CHECKPOINT_EVERY = timedelta(hours=1)
# API answers recorded as denied attempts (when the URL matches a route). A 409 (stale base,
# wrong state) is not an access decision and changes nothing, so it is not recorded.
DENIED_STATUSES = frozenset({401, 403, 404})
# Serialises leaf numbering across PostgreSQL transactions (SQLite has one writer anyway).
_PG_LOCK_KEY = 0x7065_6572_6C65_78
_LEAF_COLUMNS = (
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


class AuditLogCorrupt(Exception):
    """The stored log does not match its leaf hashes or its earlier checkpoints."""


def _entry_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _checkpoint_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


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
    return {column.key: getattr(entry, column.key) for column in _LEAF_COLUMNS}


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


def _new_entry(
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
        request_id=g.get("request_id", "-"),
        outcome=outcome,
        details=json.dumps(details, sort_keys=True, ensure_ascii=False, default=str),
    )


def _caller_email() -> str | None:
    user = current_user
    return user.email if user and user.is_authenticated else None


def record(
    action: str, target: str, *, outcome: str = "ok", review_id: int | None = None, **details: Any
) -> AuditEntry:
    """Add an audit entry for the current request to the open transaction."""
    entry = _new_entry(_caller_email(), action, target, outcome, review_id, details)
    db_session().add(entry)
    g.audit_written = True
    return entry


def _own_session() -> Session:
    database: Database = current_app.extensions["peerlex.db"]
    return database.sessions()


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
    with _own_session() as session:
        session.add(
            _new_entry(
                email,
                f"{request.method} {request.endpoint or '-'}",
                request.path,
                "denied",
                _review_of_request(session),
                details,
            )
        )
        session.commit()


def _release_request_session() -> None:
    # The response is made: what the request meant to keep is committed, and its session
    # would be rolled back when closed anyway. Ending its transaction now frees the SQLite
    # write lock it may hold, which the audit's own short transaction would otherwise wait on.
    pending: Session | None = g.get("db_session")
    if pending is not None and pending.in_transaction():
        pending.rollback()


def after_request(status: int, *, api: bool) -> None:
    """Record a denied API request and keep checkpoints fresh; log failures, never raise."""
    # A 404 for a URL that matches no route asked for nothing, so it is not an attempt.
    denied = api and status in DENIED_STATUSES and request.url_rule is not None
    if not denied and not (status < 400 and g.get("audit_written")):
        return
    try:
        email = _caller_email() if denied else None
        _release_request_session()
        if denied:
            _record_denied(status, email)
        ensure_recent_checkpoint()
    except Exception:
        log.exception("audit: could not record %s %s (%s)", request.method, request.path, status)


def ensure_deployment_key(keys: KeyStore) -> None:
    """Make the deployment's signing key on first use (one process does it, under a lock)."""
    if keys.has_keys(DEPLOYMENT_PARTY):
        return
    keys.directory.mkdir(parents=True, exist_ok=True)
    with (keys.directory / f".{DEPLOYMENT_PARTY}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not keys.has_keys(DEPLOYMENT_PARTY):
            keys.create(DEPLOYMENT_PARTY)


def _deployment_keys() -> PartyKeys:
    keys = services().keys
    ensure_deployment_key(keys)
    return keys.current(DEPLOYMENT_PARTY)


def _rows(session: Session) -> Iterator[Mapping[Any, Any]]:
    query = (
        select(*_LEAF_COLUMNS)
        .order_by(AuditEntry.leaf_index, AuditEntry.id)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(query):
        yield row._mapping


def _ranges(indexes: list[int]) -> str:
    return ", ".join(
        str(first) if first == last else f"{first}-{last}" for first, last in _runs(sorted(indexes))
    )


def _runs(values: list[int]) -> Iterator[tuple[int, int]]:
    start = previous = values[0]
    for value in values[1:]:
        if value != previous + 1:
            yield start, previous
            start = value
        previous = value
    yield start, previous


@dataclass
class _Scan:
    """The tree recomputed from the rows' fields, and what did not match on the way."""

    tree: MerkleTree = field(default_factory=MerkleTree)
    problems: list[str] = field(default_factory=list)


def _scan_log(session: Session) -> _Scan:
    scan = _Scan()
    missing: list[int] = []
    expected = 0
    for values in _rows(session):
        index = values["leaf_index"]
        if index is None:
            scan.problems.append(f"audit row {values['id']} has no leaf index (never sealed)")
            continue
        if index > expected:
            missing.extend(range(expected, index))
        expected = index + 1
        recomputed = entry_leaf_hash(leaf_fields(values, index))
        if values["leaf_hash"] != recomputed.hex():
            scan.problems.append(
                f"entry {index} (audit row {values['id']}): its fields do not hash to its "
                "stored leaf hash (edited or moved?)"
            )
        scan.tree.append(recomputed)
    if missing:
        scan.problems.insert(0, f"missing entries (deleted?): {_ranges(missing)}")
    return scan


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    found: AuditCheckpoint | None = session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    )
    return found


def make_checkpoint(session: Session) -> AuditCheckpoint:
    """Sign a checkpoint of the whole log, after checking it against the previous checkpoint.

    The caller commits. Refuses (AuditLogCorrupt) rather than sign a log that does not verify.
    """
    scan = _scan_log(session)
    if scan.problems:
        raise AuditLogCorrupt(scan.problems[0])
    tree = scan.tree
    previous = latest_checkpoint(session)
    if previous is not None and (
        previous.size > tree.size or tree.root(previous.size).hex() != previous.root_hash
    ):
        raise AuditLogCorrupt(f"the log no longer matches checkpoint {previous.id}")
    now = utcnow().replace(microsecond=0)
    root = tree.root()
    statement = checkpoint_statement(tree.size, root, _checkpoint_time(now))
    checkpoint = AuditCheckpoint(
        size=tree.size,
        root_hash=root.hex(),
        created_at=now,
        statement=statement.decode(),
        signature=_deployment_keys().sign(statement, AUDIT_NAMESPACE),
    )
    session.add(checkpoint)
    return checkpoint


def _recent_checkpoint(session: Session) -> tuple[AuditCheckpoint, bool]:
    latest = latest_checkpoint(session)
    if latest is not None and latest.created_at > utcnow() - CHECKPOINT_EVERY:
        return latest, False
    try:
        return make_checkpoint(session), True
    except AuditLogCorrupt as exc:
        log.error("audit: no new checkpoint, the log does not verify: %s", exc)
        if latest is None:
            raise
        return latest, False


def ensure_recent_checkpoint(session: Session | None = None) -> AuditCheckpoint:
    """The newest checkpoint, made first when it is an hour old or there is none.

    Without a session, in a short transaction of its own; with one (a write request that
    already holds the write lock), a new checkpoint is added to it for the caller to commit.
    When the log no longer verifies, the older checkpoint is answered and the error logged.
    """
    if session is not None:
        checkpoint, made = _recent_checkpoint(session)
        if made:
            session.flush()
        return checkpoint
    with _own_session() as own:
        checkpoint, made = _recent_checkpoint(own)
        if made:
            own.commit()
        return checkpoint


def checkpoint_on_demand(user: User) -> dict[str, Any]:
    """Make a checkpoint now (administrators)."""
    require_admin(user, "only administrators make audit checkpoints on demand")
    session = db_session()
    try:
        checkpoint = make_checkpoint(session)
    except AuditLogCorrupt as exc:
        log.error("audit: checkpoint refused: %s", exc)
        raise Problem(
            500,
            "the audit log does not verify; run `peerlex-server audit verify`",
            "audit-log-corrupt",
        ) from exc
    record("audit.checkpoint", f"size {checkpoint.size}")
    session.commit()
    return checkpoint_payload(checkpoint)


def checkpoint_payload(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    size, root, time = parse_checkpoint(checkpoint.statement.encode())
    return {
        "id": checkpoint.id,
        "size": size,
        "root": root.hex(),
        "time": time,
        "statement": checkpoint.statement,
        "signature": checkpoint.signature,
        "signer": principal(DEPLOYMENT_PARTY),
    }


def current_checkpoint(user: User) -> dict[str, Any]:
    """The newest signed checkpoint (made first when it is an hour old), for auditors."""
    require_audit_reader(user)
    return checkpoint_payload(ensure_recent_checkpoint())


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
        raise Problem(500, "the audit log has a malformed leaf hash", "audit-log-corrupt") from exc
    if tree.size != size:
        raise Problem(500, "the audit log is missing entries", "audit-log-corrupt")
    return tree


def _tree_size(session: Session, wanted: int | None, default: int, name: str) -> int:
    size = default if wanted is None else wanted
    available = _log_size(session)
    if size > available:
        message = f"the log has {available} entries"
        raise Problem(422, message, "invalid-size", errors={name: [message]})
    return size


def _review_filter(rid: str, scope: set[int] | None) -> int:
    found = review_named(rid)
    if found is None or (scope is not None and found.id not in scope):
        raise NotFound("no such review, or you do not organise it")
    return found.id


def audit_page(user: User, query: Mapping[str, Any]) -> dict[str, Any]:
    """Entries the user may read, each with its inclusion proof in the tree of `size`."""
    scope = audit_scope(user)
    checkpoint = ensure_recent_checkpoint()
    session = db_session()
    size = _tree_size(session, query.get("size"), checkpoint.size, "size")
    after, limit = query["after"], query["limit"]
    wanted = (
        select(*_LEAF_COLUMNS)
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
    entries: list[dict[str, Any]] = []
    for values in rows[:limit]:
        leaf = leaf_fields(values, values["leaf_index"])
        entries.append(
            {
                "leaf": leaf,
                "leaf_hash": entry_leaf_hash(leaf).hex(),
                "proof": [node.hex() for node in tree.inclusion_proof(leaf["index"], size)],
            }
        )
    return {
        "size": size,
        "root": tree.root().hex(),
        "log_size": _log_size(session),
        "checkpoint": checkpoint_payload(checkpoint),
        "entries": entries,
        "next_after": entries[-1]["leaf"]["index"] if more else None,
    }


def consistency(user: User, query: Mapping[str, Any]) -> dict[str, Any]:
    """A proof that the tree of `from` entries is a prefix of the tree of `to` entries."""
    require_audit_reader(user)
    checkpoint = ensure_recent_checkpoint()
    session = db_session()
    new = _tree_size(session, query.get("to"), checkpoint.size, "to")
    old = query["from_"]
    if old > new:
        message = "from must not be larger than to"
        raise Problem(422, message, "invalid-size", errors={"from": [message]})
    tree = _stored_tree(session, new)
    return {
        "from_": old,
        "to": new,
        "from_root": tree.root(old).hex(),
        "to_root": tree.root().hex(),
        "proof": [node.hex() for node in tree.consistency_proof(old, new)],
    }


@dataclass(frozen=True)
class HeldCheckpoint:
    """A checkpoint kept outside the server (e.g. by a client), to catch a truncated log."""

    label: str
    statement: bytes
    signature: str | None


def _deployment_key_lines(keys: KeyStore) -> set[str]:
    try:
        return {sshsig.public_key_line(k.public_key) for k in keys.verifying_keys(DEPLOYMENT_PARTY)}
    except KeyStoreError:
        return set()


def _check_checkpoint(
    label: str,
    statement: bytes,
    signature: str | None,
    tree: MerkleTree,
    signers: set[str],
) -> list[str]:
    """Problems with one checkpoint: its signature, its form, and its root against the log."""
    problems = []
    if signature is None:
        problems.append(f"{label}: no signature to check")
    else:
        try:
            verified = sshsig.verify(signature, statement, AUDIT_NAMESPACE)
            if sshsig.public_key_line(verified.public_key) not in signers:
                problems.append(f"{label}: signed by {verified.fingerprint}, not a deployment key")
        except sshsig.SignatureError as exc:
            problems.append(f"{label}: signature does not verify ({exc})")
    try:
        size, root, _time = parse_checkpoint(statement)
    except CheckpointError as exc:
        return [*problems, f"{label}: {exc}"]
    if size > tree.size:
        problems.append(
            f"{label}: it says the log had {size} entries; it has {tree.size} (truncated?)"
        )
    elif tree.root(size) != root:
        problems.append(
            f"{label}: the log's first {size} entries have another root hash "
            "(an entry was changed, removed or moved)"
        )
    return problems


def verify_audit_log(held: Iterable[HeldCheckpoint] = ()) -> list[str]:
    """Recompute the tree from the rows and check every checkpoint; answer the problems found.

    Reads without a write lock. The checkpoints are read before the rows: a checkpoint only
    covers rows committed before it, so the rows read after it are never too few.
    """
    database: Database = current_app.extensions["peerlex.db"]
    with database.read_sessions() as session:
        checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
        scan = _scan_log(session)
    problems = list(scan.problems)
    signers = _deployment_key_lines(services().keys)
    if not signers:
        problems.append(f"the deployment key ({DEPLOYMENT_PARTY}) is missing")
    for checkpoint in checkpoints:
        label = f"checkpoint {checkpoint.id} ({_checkpoint_time(checkpoint.created_at)})"
        statement = checkpoint.statement.encode()
        problems.extend(
            _check_checkpoint(label, statement, checkpoint.signature, scan.tree, signers)
        )
        try:
            signed = parse_checkpoint(statement)
        except CheckpointError:
            continue  # named above
        row = (checkpoint.size, checkpoint.root_hash, _checkpoint_time(checkpoint.created_at))
        if row != (signed[0], signed[1].hex(), signed[2]):
            problems.append(f"{label}: its row does not match its signed statement")
    for kept in held:
        problems.extend(
            _check_checkpoint(
                f"checkpoint {kept.label}", kept.statement, kept.signature, scan.tree, signers
            )
        )
    return problems


def log_summary() -> tuple[int, int]:
    """(entries, checkpoints) in the log."""
    database: Database = current_app.extensions["peerlex.db"]
    with database.read_sessions() as session:
        entries = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        checkpoints = session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0
    return int(entries), int(checkpoints)
