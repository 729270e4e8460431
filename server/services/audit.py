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

from sqlalchemy import Connection, event, func, select, text, update
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import set_committed_value

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
from server.db import db_session
from server.models import (
    AuditCheckpoint,
    AuditEntry,
    User,
    utcnow,
)
from server.permissions import audit_scope, require_admin, require_audit_reader, review_named
from server.services.context import request_id, services
from server.services.errors import Corrupt, Invalid, NotFound

log = logging.getLogger(__name__)
# No scheduler runs beside the server: a checkpoint is made at an audit read or write once the
# newest is this old (and on demand, and by `peerlex-server audit checkpoint`).
CHECKPOINT_EVERY = timedelta(hours=1)
# The key, in a request's session info, that says the request wrote to the log.
AUDIT_WRITTEN = "peerlex_audit_written"
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
    with own_session() as own:
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
        raise Corrupt(
            "the audit log does not verify; run `peerlex-server audit verify`",
            "audit-log-corrupt",
        ) from exc
    record(user, "audit.checkpoint", f"size {checkpoint.size}")
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
        raise Invalid(message, "invalid-size", errors={"from": [message]})
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
    with services().database.read_sessions() as session:
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
    with services().database.read_sessions() as session:
        entries = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        checkpoints = session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0
    return int(entries), int(checkpoints)
