"""`peerlex-server fsck`: check every repository, signature, blob, approval and the audit log.

Each problem is one line naming what is wrong and where; no line means all is well.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import select

from keys.age import AgeError, check_header
from keys.protocol import GIT_NAMESPACE
from repo_store.attachments import list_attachments
from repo_store.blobs import BlobError
from repo_store.commits import check_signature
from repo_store.errors import LegacyLayout
from repo_store.objects import TREE_MODE, ObjectReader
from repo_store.store import belongs_to_document
from server.db import db_session
from server.models import Approval, Party
from server.services.approvals import approval_signature
from server.services.attachments import blob_store
from server.services.audit.verify import verify_audit_log
from server.services.context import services
from server.services.signers import trusted_keys


class _Null:
    """A sink for a decryption done only to authenticate every chunk."""

    def write(self, data: bytes | memoryview) -> int:
        return len(data)


def check_repositories() -> Iterator[str]:
    """git fsck of each repository; the signature of every commit of every document's history,
    and that a document's history holds its own files only."""
    store = services().store
    try:
        store.check_layout()
    except LegacyLayout as exc:
        yield str(exc)
        return
    for party in db_session().scalars(select(Party.code).order_by(Party.code)):
        path = store.path(party)
        if not path.exists():
            yield f"{party}: repository missing at {path}"
            continue
        result = subprocess.run(
            ["git", f"--git-dir={path}", "fsck", "--strict", "--no-progress", "--no-dangling"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            for line in (result.stdout + result.stderr).strip().splitlines():
                yield f"{party}: git fsck: {line}"
            continue
        trusted = trusted_keys(party, GIT_NAMESPACE)
        for slug in store.slugs(party):
            for info in store.history(party, slug):
                check = check_signature(info, party, trusted)
                if check.status != "good":
                    yield f"{party}: {slug} commit {info.sha}: signature {check.status}"
            stray = _files_of_other_documents(party, slug)
            if stray:
                yield f"{party}: {slug} history holds files of other documents: {stray}"


def _files_of_other_documents(party: str, slug: str) -> str | None:
    """The first path in a document's history that is not the document's own, if any."""
    store = services().store
    reader = store.reader(party)
    for info in store.history(party, slug):
        for name, (sha, mode) in reader.tree(bytes.fromhex(info.tree)).items():
            for path in _paths(reader, name, sha, mode):
                if not belongs_to_document(path, slug):
                    return path
    return None


def _paths(reader: ObjectReader, path: str, sha: bytes, mode: int) -> Iterator[str]:
    if mode != TREE_MODE:
        yield path
        return
    for name, (child, child_mode) in reader.tree(sha).items():
        yield from _paths(reader, f"{path}/{name}", child, child_mode)


def check_blobs() -> Iterator[str]:
    """Every attachment's blob: present, hash right, opened by every recipient's key.

    The server holds no key of a State that holds its own: its attachments are checked for
    their hash alone, and it is not checked as a recipient (its identities are elsewhere).
    """
    store, keys, blobs = services().store, services().keys, blob_store()
    parties = list(db_session().scalars(select(Party).order_by(Party.code)))
    self_held = {p.code for p in parties if p.holds_own_keys}
    for party in (p.code for p in parties):
        if not store.path(party).exists():
            continue
        for summary in store.list_documents(party):
            for record in list_attachments(store, party, summary.slug):
                where = f"{party}/{summary.slug} attachment {record.id} (blob {record.sha256})"
                if not blobs.exists(record.sha256):
                    yield f"{where}: blob missing"
                    continue
                if not blobs.verify_hash(record.sha256):
                    yield f"{where}: blob does not match its sha256"
                    continue
                if party in self_held:
                    continue
                owner = [k.encryption_key for k in keys.all_private(party)]
                try:
                    blobs.decrypt_to(record.sha256, _Null(), owner)  # type: ignore[arg-type]
                except (AgeError, BlobError) as exc:
                    yield f"{where}: does not decrypt: {exc}"
                    continue
                for recipient in sorted(set(record.recipients) - self_held):
                    identities = [k.encryption_key for k in keys.all_private(recipient)]
                    handle: BinaryIO
                    with blobs.open(record.sha256) as handle:
                        try:
                            check_header(handle, identities)
                        except AgeError:
                            yield f"{where}: recipient {recipient} cannot open it"


def check_approvals() -> Iterator[str]:
    """Every approval's signature over its statement, by a key of its State valid then."""
    for approval in db_session().scalars(select(Approval).order_by(Approval.id)):
        party = approval.party.code
        where = f"approval {approval.id} ({party}/{approval.slug}@{approval.version[:12]})"
        result = approval_signature(approval)
        if result.status == "unknown":
            yield f"{where}: signed by {result.fingerprint}, not a key of {party}"
        elif result.status != "good":
            yield f"{where}: signature {result.status}"


def check_audit_log() -> Iterator[str]:
    """The audit log's Merkle tree and checkpoints."""
    for problem in verify_audit_log():
        yield f"audit log: {problem}"


def run_fsck() -> Iterator[str]:
    """Every problem found, one line each."""
    yield from check_repositories()
    yield from check_blobs()
    yield from check_approvals()
    yield from check_audit_log()
