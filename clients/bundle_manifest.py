"""manifest.json of a final bundle, checked against a strict schema before any value is used.

Every value that later names a file, a ref, a commit or a party must match its pattern in full
(docs/bundle.md), and every path is the one the format prescribes for its entry, so nothing in
a manifest can point the verifier anywhere else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from keys.bundle_format import APPROVED_REFS, BUNDLE_FORMAT

PARTY = re.compile(r"[A-Z][A-Z0-9]{1,15}")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
COMMIT = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
ATTACHMENT_ID = re.compile(r"[0-9a-f]{8,64}")
AGE_RECIPIENT = re.compile(r"age1[02-9ac-hj-np-z]{58}")
_REF = re.compile(re.escape(APPROVED_REFS) + SLUG.pattern)
# Free text (titles, e-mails, file names, media types): bounded, printed through one_line.
MAX_TEXT = 1000


class ManifestError(ValueError):
    """manifest.json is not a peerlex manifest; the message names the failing field."""


@dataclass(frozen=True)
class DocumentEntry:
    party: str
    slug: str
    commit: str
    sha256: str


@dataclass(frozen=True)
class ApprovalEntry:
    party: str
    slug: str
    commit: str
    approved_by: str
    statement: str
    signature: str


@dataclass(frozen=True)
class AttachmentEntry:
    id: str
    party: str
    slug: str
    name: str
    media_type: str
    size: int
    file: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class RepositoryEntry:
    party: str
    path: str
    commits: dict[str, str]  # slug -> commit, the ref refs/peerlex/approved/<slug>


@dataclass(frozen=True)
class AuditEntry:
    statement: str
    signature: str
    signer: str
    size: int
    root: str
    time: str


@dataclass(frozen=True)
class Manifest:
    review: str
    title: str
    states: tuple[str, ...]
    organisers: tuple[str, ...]
    observers: tuple[str, ...]
    signed_by: str
    documents: tuple[DocumentEntry, ...]
    approvals: tuple[ApprovalEntry, ...]
    attachments: tuple[AttachmentEntry, ...]
    repositories: tuple[RepositoryEntry, ...]
    audit: AuditEntry


def _object(value: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be an object")
    missing, extra = keys - set(value), set(value) - keys
    if missing:
        raise ManifestError(f"{where} lacks {', '.join(sorted(missing))}")
    if extra:
        raise ManifestError(f"{where} has unknown field(s) {', '.join(sorted(extra))}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ManifestError(f"{where} must be a list")
    return value


def _text(value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str):
        raise ManifestError(f"{where} must be a string")
    if pattern is not None and not pattern.fullmatch(value):
        raise ManifestError(f"{where} must match {pattern.pattern}")
    if pattern is None and (len(value) > MAX_TEXT or "\x00" in value):
        raise ManifestError(f"{where} is too long or holds a NUL")
    return value


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ManifestError(f"{where} must be a whole number")
    return value


def _path(value: Any, where: str, expected: str) -> str:
    """A file path in the bundle: exactly the one the format prescribes for this entry."""
    text = _text(value, where)
    if text != expected:
        raise ManifestError(f"{where} must be {expected}")
    return text


def _parties(value: Any, where: str) -> tuple[str, ...]:
    codes = tuple(_text(v, f"{where}[{i}]", PARTY) for i, v in enumerate(_list(value, where)))
    if len(set(codes)) != len(codes):
        raise ManifestError(f"{where} names a party twice")
    return codes


def _document(value: Any, where: str) -> DocumentEntry:
    entry = _object(value, where, {"party", "slug", "commit", "sha256"})
    return DocumentEntry(
        party=_text(entry["party"], f"{where}.party", PARTY),
        slug=_text(entry["slug"], f"{where}.slug", SLUG),
        commit=_text(entry["commit"], f"{where}.commit", COMMIT),
        sha256=_text(entry["sha256"], f"{where}.sha256", SHA256),
    )


def _approval(value: Any, where: str) -> ApprovalEntry:
    keys = {"party", "slug", "commit", "approved_by", "statement", "signature"}
    entry = _object(value, where, keys)
    party = _text(entry["party"], f"{where}.party", PARTY)
    slug = _text(entry["slug"], f"{where}.slug", SLUG)
    return ApprovalEntry(
        party=party,
        slug=slug,
        commit=_text(entry["commit"], f"{where}.commit", COMMIT),
        approved_by=_text(entry["approved_by"], f"{where}.approved_by"),
        statement=_path(entry["statement"], f"{where}.statement", f"approvals/{party}/{slug}.json"),
        signature=_path(entry["signature"], f"{where}.signature", f"approvals/{party}/{slug}.sig"),
    )


def _attachment(value: Any, where: str) -> AttachmentEntry:
    keys = {"party", "slug", "id", "name", "media_type", "size", "file", "recipients"}
    entry = _object(value, where, keys)
    party = _text(entry["party"], f"{where}.party", PARTY)
    slug = _text(entry["slug"], f"{where}.slug", SLUG)
    attachment_id = _text(entry["id"], f"{where}.id", ATTACHMENT_ID)
    recipients = _list(entry["recipients"], f"{where}.recipients")
    return AttachmentEntry(
        party=party,
        slug=slug,
        id=attachment_id,
        name=_text(entry["name"], f"{where}.name"),
        media_type=_text(entry["media_type"], f"{where}.media_type"),
        size=_count(entry["size"], f"{where}.size"),
        file=_path(
            entry["file"], f"{where}.file", f"attachments/{party}/{slug}/{attachment_id}.age"
        ),
        recipients=tuple(
            _text(r, f"{where}.recipients[{i}]", AGE_RECIPIENT) for i, r in enumerate(recipients)
        ),
    )


def _repository(value: Any, where: str) -> RepositoryEntry:
    entry = _object(value, where, {"party", "path", "refs"})
    party = _text(entry["party"], f"{where}.party", PARTY)
    refs = entry["refs"]
    if not isinstance(refs, dict) or not refs:
        raise ManifestError(f"{where}.refs must be an object naming at least one ref")
    commits = {}
    for ref, commit in refs.items():
        name = _text(ref, f"{where}.refs key", _REF)
        commits[name.removeprefix(APPROVED_REFS)] = _text(commit, f"{where}.refs[{name}]", COMMIT)
    return RepositoryEntry(
        party=party,
        path=_path(entry["path"], f"{where}.path", f"repos/{party}.git"),
        commits=commits,
    )


def _audit(value: Any, where: str) -> AuditEntry:
    keys = {"statement", "signature", "signer", "size", "root", "time"}
    entry = _object(value, where, keys)
    return AuditEntry(
        statement=_path(entry["statement"], f"{where}.statement", "audit/checkpoint.json"),
        signature=_path(entry["signature"], f"{where}.signature", "audit/checkpoint.sig"),
        signer=_text(entry["signer"], f"{where}.signer"),
        size=_count(entry["size"], f"{where}.size"),
        root=_text(entry["root"], f"{where}.root", SHA256),
        time=_text(entry["time"], f"{where}.time"),
    )


def _unique(items: list[Any], key: Any, where: str) -> tuple[Any, ...]:
    seen = set()
    for item in items:
        if key(item) in seen:
            raise ManifestError(f"{where} lists {'/'.join(key(item))} twice")
        seen.add(key(item))
    return tuple(items)


def parse_manifest(data: bytes) -> Manifest:
    """The manifest, every field checked; ManifestError names the first one that is wrong."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ManifestError(f"manifest.json is not JSON: {exc}") from exc
    keys = {
        "format",
        "review",
        "parties",
        "signed_by",
        "documents",
        "approvals",
        "attachments",
        "repositories",
        "audit_checkpoint",
    }
    top = _object(raw, "manifest.json", keys)
    if top["format"] != BUNDLE_FORMAT:
        raise ManifestError(f"format must be {BUNDLE_FORMAT}")
    review = _object(top["review"], "review", {"slug", "title"})
    parties = _object(top["parties"], "parties", {"states", "organisers", "observers"})

    def each(name: str, parse: Any) -> list[Any]:
        return [parse(v, f"{name}[{i}]") for i, v in enumerate(_list(top[name], name))]

    by_slug = lambda e: (e.party, e.slug)  # noqa: E731
    return Manifest(
        review=_text(review["slug"], "review.slug", SLUG),
        title=_text(review["title"], "review.title"),
        states=_parties(parties["states"], "parties.states"),
        organisers=_parties(parties["organisers"], "parties.organisers"),
        observers=_parties(parties["observers"], "parties.observers"),
        signed_by=_text(top["signed_by"], "signed_by", PARTY),
        documents=_unique(each("documents", _document), by_slug, "documents"),
        approvals=_unique(each("approvals", _approval), by_slug, "approvals"),
        attachments=_unique(
            each("attachments", _attachment), lambda e: (e.party, e.slug, e.id), "attachments"
        ),
        repositories=_unique(
            each("repositories", _repository), lambda e: (e.party,), "repositories"
        ),
        audit=_audit(top["audit_checkpoint"], "audit_checkpoint"),
    )
