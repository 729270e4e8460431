"""Whole-log verification: the tree recomputed from every row, each checkpoint checked on it.

`peerlex-server audit verify` and `fsck` report what this finds (docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys import sshsig
from keys.merkle import (
    DEPLOYMENT_PARTY,
    CheckpointError,
    MerkleTree,
    entry_leaf_hash,
    parse_checkpoint,
)
from keys.party_keys import KeyStore, KeyStoreError
from keys.protocol import AUDIT_NAMESPACE
from server.models import AuditCheckpoint, AuditEntry
from server.services.audit.entries import LEAF_COLUMNS, checkpoint_time, leaf_fields
from server.services.context import services


def _rows(session: Session) -> Iterator[Mapping[Any, Any]]:
    query = (
        select(*LEAF_COLUMNS)
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


def scan_log(session: Session) -> _Scan:
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
        scan = scan_log(session)
    problems = list(scan.problems)
    signers = _deployment_key_lines(services().keys)
    if not signers:
        problems.append(f"the deployment key ({DEPLOYMENT_PARTY}) is missing")
    for checkpoint in checkpoints:
        label = f"checkpoint {checkpoint.id} ({checkpoint_time(checkpoint.created_at)})"
        statement = checkpoint.statement.encode()
        problems.extend(
            _check_checkpoint(label, statement, checkpoint.signature, scan.tree, signers)
        )
        try:
            signed = parse_checkpoint(statement)
        except CheckpointError:
            continue  # named above
        row = (checkpoint.size, checkpoint.root_hash, checkpoint_time(checkpoint.created_at))
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
