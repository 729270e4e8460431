"""Documents: save a version, read one, list versions and documents, honouring shares.

The owning State sees every version. Anyone else sees exactly the versions shared into reviews
their party takes part in; every other version is NotFound, like a document that does not
exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from keys.protocol import GIT_NAMESPACE
from repo_store.commits import CommitInfo, Identity, SignatureCheck, check_signature
from repo_store.errors import UnknownVersion
from repo_store.names import check_slug
from repo_store.store import Document
from server.db import db_session
from server.models import Party, Share, User
from server.permissions import Access, document_access, shared_versions
from server.services import audit
from server.services.context import services
from server.services.errors import Conflict, Invalid, NotFound
from server.services.limits import check_document_blocks
from server.services.parties import find_party
from server.services.signers import trusted_keys

NOT_FOUND = "no such document, or you may not see it"


@dataclass(frozen=True)
class Visibility:
    """Which versions of one document a user may read: all of them, or a set."""

    everything: bool
    versions: frozenset[str]

    def allows(self, version: str) -> bool:
        return self.everything or version in self.versions


def visibility(user: User, code: str, slug: str) -> Visibility:
    """What the user may read of a document; worked out once per request."""
    # The session lives as long as the request: its info is the request's scratch space.
    cache: dict[tuple[int, str, str], Visibility] = db_session().info.setdefault(
        "peerlex_visibility", {}
    )
    key = (user.id, code, slug)
    if key not in cache:
        find_party(code)
        check_slug(slug)
        if Access.READ in document_access(user, code):
            cache[key] = Visibility(True, frozenset())
        else:
            cache[key] = Visibility(False, frozenset(shared_versions(user, code, slug)))
    return cache[key]


def readable_versions(user: User, code: str, slug: str) -> list[CommitInfo]:
    """The versions of a document the user may read, newest first; 404 when none."""
    seen = visibility(user, code, slug)
    if not seen.everything and not seen.versions:
        raise NotFound(NOT_FOUND)
    versions = [v for v in services().store.versions(code, slug) if seen.allows(v.sha)]
    if not versions:
        raise NotFound(NOT_FOUND)
    return versions


def readable_version(user: User, code: str, slug: str, version: str | None) -> str:
    """Resolve a requested version (None: the newest the user may see) or answer 404."""
    seen = visibility(user, code, slug)
    store = services().store
    if seen.everything:
        return store.resolve_version(code, slug, version)
    if version is None:
        return readable_versions(user, code, slug)[0].sha
    if version not in seen.versions:
        raise NotFound(NOT_FOUND)
    return version


@dataclass(frozen=True)
class VersionView:
    """One version as a reader sees it: its commit, its signature's check, and the version
    before it that this reader may read."""

    info: CommitInfo
    signature: SignatureCheck
    parent: str | None


@dataclass(frozen=True)
class DocumentView:
    """A document at one version, with that version's view."""

    party: str
    doc: Document
    version: VersionView


def _document_view(code: str, doc: Document, parent: str | None) -> DocumentView:
    check = services().store.verify_commit(code, doc.version.sha, trusted_keys(code, GIT_NAMESPACE))
    return DocumentView(code, doc, VersionView(doc.version, check, parent))


def previous_readable(user: User, code: str, slug: str, version: str) -> str | None:
    """The version before this one that the user may read (for the owner: the parent commit)."""
    if visibility(user, code, slug).everything:
        return services().store.commit(code, version).parent
    shas = [v.sha for v in readable_versions(user, code, slug)]
    at = shas.index(version)
    return shas[at + 1] if at + 1 < len(shas) else None


@dataclass(frozen=True)
class SavedDocument:
    document: DocumentView
    created: bool


def writable(
    user: User, code: str, slug: str, data: dict[str, Any]
) -> tuple[Party, dict[str, Any]]:
    """Check that the user may write a version of the document as data asks; return the party
    and the version's metadata (defaults filled in for a new document)."""
    party = find_party(code)
    if Access.WRITE not in document_access(user, code):
        raise NotFound(NOT_FOUND)
    check_slug(slug)
    check_document_blocks(data["content"])
    metadata = {key: data.get(key) for key in ("title", "kind", "language")}
    if data.get("base") is None:
        metadata = {
            "title": metadata["title"] or slug,
            "kind": metadata["kind"] or "other",
            "language": metadata["language"] or "und",
        }
    return party, metadata


def save_document(user: User, code: str, slug: str, data: dict[str, Any]) -> SavedDocument:
    """Create a document (no base) or commit a new version of it (base = version edited from)."""
    party, metadata = writable(user, code, slug, data)
    if party.holds_own_keys:
        raise Conflict(
            f"{code} holds its own keys: ask for a signing request (POST …/{slug}/versions/"
            "requests) and sign it on your machine, as `peerlex push --key KEY` does",
            "signature-required",
        )
    store = services().store
    try:
        version, created = store.put_document(
            code,
            slug,
            data["content"],
            metadata,
            base=data.get("base"),
            author=Identity(user.name or user.email, user.email),
            committer_name=party.name,
            message=data["message"],
        )
    except UnknownVersion as exc:
        raise Invalid(str(exc), "unknown-base") from exc
    return saved(user, code, slug, version, created)


def saved(
    user: User,
    code: str,
    slug: str,
    version: str,
    created: bool,
    signature: SignatureCheck | None = None,
    **extra: Any,
) -> SavedDocument:
    """Record a saved version in the audit log, commit, and say what was saved (with its
    signature's check, when the caller has just made it)."""
    audit.record(user, "document.save", f"{code}/{slug}", version=version, created=created, **extra)
    db_session().commit()
    doc = services().store.read_document(code, slug, version)
    if signature is None:
        return SavedDocument(_document_view(code, doc, doc.version.parent), created)
    view = VersionView(doc.version, signature, doc.version.parent)
    return SavedDocument(DocumentView(code, doc, view), created)


def get_document(user: User, code: str, slug: str, version: str | None) -> DocumentView:
    resolved = readable_version(user, code, slug, version)
    doc = services().store.read_document(code, slug, resolved)
    parent = previous_readable(user, code, slug, resolved)
    return _document_view(code, doc, parent)


def document_versions(user: User, code: str, slug: str) -> list[VersionView]:
    """Every version of a document the user may read, newest first, with signature status."""
    versions = readable_versions(user, code, slug)
    trusted = trusted_keys(code, GIT_NAMESPACE)
    everything = visibility(user, code, slug).everything
    result = []
    for index, info in enumerate(versions):
        parent = (
            info.parent
            if everything
            else (versions[index + 1].sha if index + 1 < len(versions) else None)
        )
        result.append(VersionView(info, check_signature(info, code, trusted), parent))
    return result


def list_documents(user: User, code: str) -> list[DocumentView]:
    """The party's documents the user may read, each at the newest version they may see."""
    find_party(code)
    store = services().store
    if Access.READ in document_access(user, code):
        slugs = [summary.slug for summary in store.list_documents(code)]
    else:
        shared = select(Share.slug).join(Share.party).where(Party.code == code).distinct()
        slugs = sorted(set(db_session().scalars(shared)))
    result = []
    for slug in slugs:
        try:
            version = readable_version(user, code, slug, None)
        except NotFound:
            continue
        doc = store.read_document(code, slug, version)
        parent = previous_readable(user, code, slug, version)
        result.append(_document_view(code, doc, parent))
    return result
