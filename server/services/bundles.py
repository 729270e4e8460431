"""The final bundle of a review: what was agreed, by whom, signed, verifiable offline.

Layout and verification steps are in docs/bundle.md. The same review state always gives the
same bytes: sorted tar entries, fixed times and owners, canonical JSON, repositories of loose
objects written in-process, and attachment headers re-wrapped once and then reused.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from keys.bundle_format import (
    ALLOWED_SIGNERS,
    APPROVED_REFS,
    BUNDLE_FORMAT,
    MANIFEST,
    SUMS,
    SUMS_SIGNATURE,
    sha256_hex,
    sums_file,
)
from keys.files import replaced_whole
from keys.merkle import DEPLOYMENT_PARTY
from keys.protocol import BUNDLE_NAMESPACE
from keys.statements import canonical_json
from repo_store.shallow_repos import approved_repository
from server.db import db_session
from server.models import Review, ReviewState, User
from server.permissions import find_review, require_organiser
from server.services import audit
from server.services.approvals import active_approvals, missing_approvals
from server.services.audit.checkpoints import ensure_recent_checkpoint, signed_checkpoint
from server.services.bundle_attachments import bundle_attachments
from server.services.bundle_readme import readme_text
from server.services.context import services
from server.services.errors import Conflict, NotFound
from server.services.reviews import participants_by_role
from server.services.signers import allowed_signers_text

# The audit log's newest signed checkpoint when the bundle was built (docs/audit.md).
AUDIT_CHECKPOINT = "audit/checkpoint.json"
AUDIT_CHECKPOINT_SIGNATURE = "audit/checkpoint.sig"
ONLY_ORGANISERS = "only the review's organisers build its bundle"


@dataclass(frozen=True)
class BuiltBundle:
    """What was built: the review, the tar's digest and size, and how much it holds."""

    review: str
    sha256: str
    size: int
    documents: int
    attachments: int


def repository_path(party: str) -> str:
    """Where a party's approved commits lie in the bundle: a shallow bare repository."""
    return f"repos/{party}.git"


def bundle_path(review: Review) -> Path:
    return services().config.bundles_dir / f"{review.slug}.tar"


def _digest(value: bytes | Path) -> str:
    if isinstance(value, bytes):
        return sha256_hex(value)
    digest = hashlib.sha256()
    with value.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_deterministic_tar(
    out: BinaryIO, root: str, files: dict[str, bytes | Path], mtime: int
) -> None:
    """A tar with sorted names, one fixed mtime, owner 0:0 and plain modes."""
    directories = sorted({str(Path(root, p).parent) for p in files} | {root})
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        entries = [(d, None) for d in directories] + [
            (f"{root}/{p}", data) for p, data in files.items()
        ]
        for name, data in sorted(entries, key=lambda item: item[0]):
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(data, bytes):
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
            else:
                info.size, info.mode = data.stat().st_size, 0o644
                with data.open("rb") as handle:
                    tar.addfile(info, handle)


def build_bundle(user: User, rid: str) -> BuiltBundle:
    """Build the final bundle once every shared document has a standing approval."""
    review = find_review(user, rid)
    organiser = require_organiser(user, review, ONLY_ORGANISERS)
    if review.state == ReviewState.OPEN:
        raise Conflict("the review is still open: move it to agreement first", "wrong-state")
    missing = missing_approvals(review)
    if missing:
        raise Conflict(
            "not every shared document is approved", "approvals-missing", missing=missing
        )
    approvals = active_approvals(review)
    if not approvals:
        raise Conflict(
            "nothing was shared and approved in this review", "approvals-missing", missing=[]
        )
    store, keys = services().store, services().keys
    checkpoint = signed_checkpoint(ensure_recent_checkpoint(db_session()))
    files: dict[str, bytes | Path] = {
        AUDIT_CHECKPOINT: checkpoint.statement.encode(),
        AUDIT_CHECKPOINT_SIGNATURE: checkpoint.signature.encode(),
    }
    documents, approval_entries = [], []
    heads: dict[str, dict[str, str]] = {}
    for (code, slug), approval in sorted(approvals.items()):
        text = store.read_document(code, slug, approval.version).content.encode()
        files[f"documents/{code}/{slug}.md"] = text
        files[f"approvals/{code}/{slug}.json"] = approval.statement.encode()
        files[f"approvals/{code}/{slug}.sig"] = approval.signature.encode()
        heads.setdefault(code, {})[slug] = approval.version
        documents.append(
            {"party": code, "slug": slug, "commit": approval.version, "sha256": sha256_hex(text)}
        )
        approval_entries.append(
            {
                "party": code,
                "slug": slug,
                "commit": approval.version,
                "approved_by": approval.approved_by.email,
                "statement": f"approvals/{code}/{slug}.json",
                "signature": f"approvals/{code}/{slug}.sig",
            }
        )
    for code, commits in sorted(heads.items()):
        for name, data in approved_repository(store.reader(code), commits).items():
            files[f"{repository_path(code)}/{name}"] = data
    attachment_entries = bundle_attachments(review, approvals, files)
    files[ALLOWED_SIGNERS] = allowed_signers_text(
        sorted({*heads, organiser, DEPLOYMENT_PARTY})
    ).encode()
    manifest = {
        "format": BUNDLE_FORMAT,
        "review": {"slug": review.slug, "title": review.title},
        "parties": participants_by_role(review),
        "signed_by": organiser,
        "documents": documents,
        "approvals": approval_entries,
        "attachments": attachment_entries,
        "repositories": [
            {
                "party": code,
                "path": repository_path(code),
                "refs": {f"{APPROVED_REFS}{s}": c for s, c in sorted(h.items())},
            }
            for code, h in sorted(heads.items())
        ],
        "audit_checkpoint": {
            "statement": AUDIT_CHECKPOINT,
            "signature": AUDIT_CHECKPOINT_SIGNATURE,
            "signer": checkpoint.signer,
            "size": checkpoint.size,
            "root": checkpoint.root,
            "time": checkpoint.time,
        },
    }
    files[MANIFEST] = canonical_json(manifest) + b"\n"
    files["README.txt"] = readme_text(review.slug, organiser).encode()
    sums = sums_file({path: _digest(value) for path, value in files.items()})
    files[SUMS] = sums
    files[SUMS_SIGNATURE] = keys.current(organiser).sign(sums, BUNDLE_NAMESPACE).encode()
    newest = max(a.created_at for a in approvals.values())
    path = bundle_path(review)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced_whole(path) as handle:
        _write_deterministic_tar(handle, review.slug, files, int(newest.timestamp()))
    review.state = ReviewState.CLOSED.value
    digest = _digest(path)
    audit.record(user, "bundle.build", review.slug, review_id=review.id, sha256=digest)
    db_session().commit()
    return BuiltBundle(
        review.slug, digest, path.stat().st_size, len(documents), len(attachment_entries)
    )


def bundle_file(user: User, rid: str) -> Path:
    """The built bundle, for the review's organisers."""
    review = find_review(user, rid)
    require_organiser(user, review, ONLY_ORGANISERS)
    path = bundle_path(review)
    if not path.exists():
        raise NotFound("no bundle has been built for this review yet")
    return path
