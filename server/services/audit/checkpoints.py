"""Audit checkpoints: signed heads of the log's Merkle tree, made when the newest is stale.

No scheduler runs beside the server: a checkpoint is made at an audit read or write once the
newest is CHECKPOINT_EVERY old, on demand, and by `peerlex-server audit checkpoint`. The
checkpoint format is in docs/audit.md.
"""

from __future__ import annotations

import fcntl
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.merkle import DEPLOYMENT_PARTY, checkpoint_statement, parse_checkpoint
from keys.party_keys import KeyStore, PartyKeys
from keys.protocol import AUDIT_NAMESPACE, principal
from server.db import db_session
from server.models import AuditCheckpoint, User, utcnow
from server.permissions import require_admin, require_audit_reader
from server.services.audit.entries import checkpoint_time, own_session, record
from server.services.audit.verify import scan_log
from server.services.context import services
from server.services.errors import Corrupt

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = timedelta(hours=1)


class AuditLogCorrupt(Exception):
    """The stored log does not match its leaf hashes or its earlier checkpoints."""


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


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    found: AuditCheckpoint | None = session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    )
    return found


def make_checkpoint(session: Session) -> AuditCheckpoint:
    """Sign a checkpoint of the whole log, after checking it against the previous checkpoint.

    The caller commits. Refuses (AuditLogCorrupt) rather than sign a log that does not verify.
    """
    scan = scan_log(session)
    if scan.problems:
        raise AuditLogCorrupt(scan.problems[0])
    tree = scan.tree
    previous = latest_checkpoint(session)
    if previous is not None and (
        previous.size > tree.size or tree.root(previous.size).hex() != previous.root_hash
    ):
        raise AuditLogCorrupt(f"the log no longer matches checkpoint {previous.id}")
    # The key first: made on first use, it must not be younger than the time it signs for, or
    # a verifier would find it not yet valid then (the first checkpoint, across a second).
    signer = _deployment_keys()
    now = utcnow().replace(microsecond=0)
    root = tree.root()
    statement = checkpoint_statement(tree.size, root, checkpoint_time(now))
    checkpoint = AuditCheckpoint(
        size=tree.size,
        root_hash=root.hex(),
        created_at=now,
        statement=statement.decode(),
        signature=signer.sign(statement, AUDIT_NAMESPACE),
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


def checkpoint_on_demand(user: User) -> SignedCheckpoint:
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
    return signed_checkpoint(checkpoint)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint as its signed statement says it: tree size, root (hex), time, and the
    statement with its signature and signer, to be checked by anyone (docs/audit.md)."""

    id: int
    size: int
    root: str
    time: str
    statement: str
    signature: str
    signer: str


def signed_checkpoint(checkpoint: AuditCheckpoint) -> SignedCheckpoint:
    size, root, time = parse_checkpoint(checkpoint.statement.encode())
    return SignedCheckpoint(
        checkpoint.id,
        size,
        root.hex(),
        time,
        checkpoint.statement,
        checkpoint.signature,
        principal(DEPLOYMENT_PARTY),
    )


def current_checkpoint(user: User) -> SignedCheckpoint:
    """The newest signed checkpoint (made first when it is an hour old), for auditors."""
    require_audit_reader(user)
    return signed_checkpoint(ensure_recent_checkpoint())
