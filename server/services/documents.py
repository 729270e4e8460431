"""Documents: save a version, read one, list versions and documents, with access checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from repo_store.commits import CommitInfo, Identity, SignatureCheck, check_signature
from repo_store.errors import UnknownVersion
from repo_store.names import check_party, check_slug
from repo_store.store import Document
from server.db import db_session
from server.errors import Problem
from server.models import Party, User
from server.permissions import Access, document_access
from server.services.context import services

NOT_FOUND = "no such document, or you may not see it"


def find_party(code: str) -> Party:
    """The party with this code, or 404."""
    check_party(code)
    party = db_session().scalar(select(Party).where(Party.code == code))
    if party is None:
        raise NotFound("no such party")
    return party


def require_document_access(user: User, code: str, needed: Access) -> Party:
    """The party, if the user may act on its documents as needed; else 404 (no leaks)."""
    party = find_party(code)
    if needed not in document_access(user, code):
        raise NotFound(NOT_FOUND)
    return party


def version_payload(party: str, info: CommitInfo, check: SignatureCheck) -> dict[str, Any]:
    return {
        "commit": info.sha,
        "parent": info.parent,
        "author": {"name": info.author_name, "email": info.author_email},
        "message": info.summary,
        "committed_at": info.committed_at,
        "signature": {
            "status": check.status,
            "fingerprint": check.fingerprint,
            "party": check.party,
        },
    }


def document_payload(party: str, doc: Document, *, with_content: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "party": party,
        "slug": doc.slug,
        "title": doc.metadata.get("title"),
        "kind": doc.metadata.get("kind"),
        "language": doc.metadata.get("language"),
        "version": version_payload(
            party, doc.version, services().store.verify_commit(party, doc.version.sha)
        ),
    }
    if with_content:
        payload["content"] = doc.content
    return payload


@dataclass(frozen=True)
class SavedDocument:
    payload: dict[str, Any]
    created: bool


def save_document(user: User, code: str, slug: str, data: dict[str, Any]) -> SavedDocument:
    """Create a document (no base) or commit a new version of it (base = version edited from)."""
    party = require_document_access(user, code, Access.WRITE)
    check_slug(slug)
    store = services().store
    metadata = {key: data.get(key) for key in ("title", "kind", "language")}
    if data.get("base") is None:
        metadata.setdefault("kind", None)
        metadata = {
            "title": metadata["title"] or slug,
            "kind": metadata["kind"] or "other",
            "language": metadata["language"] or "und",
        }
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
        raise Problem(422, str(exc), "unknown-base") from exc
    doc = store.read_document(code, slug, version)
    return SavedDocument(document_payload(code, doc, with_content=False), created)


def get_document(user: User, code: str, slug: str, version: str | None) -> dict[str, Any]:
    require_document_access(user, code, Access.READ)
    doc = services().store.read_document(code, check_slug(slug), version)
    return document_payload(code, doc, with_content=True)


def document_versions(user: User, code: str, slug: str) -> list[dict[str, Any]]:
    """Every version of a document, newest first, each with its signature status."""
    require_document_access(user, code, Access.READ)
    store = services().store
    versions = store.versions(code, check_slug(slug))
    if not versions:
        raise NotFound(NOT_FOUND)
    trusted = [key.public_key for key in services().keys.verifying_keys(code)]
    return [version_payload(code, info, check_signature(info, code, trusted)) for info in versions]


def list_documents(user: User, code: str) -> list[dict[str, Any]]:
    require_document_access(user, code, Access.READ)
    store = services().store
    result = []
    for summary in store.list_documents(code):
        info = store.commit(code, summary.version)
        result.append(
            {
                "party": code,
                "slug": summary.slug,
                "title": summary.metadata.get("title"),
                "kind": summary.metadata.get("kind"),
                "language": summary.metadata.get("language"),
                "version": version_payload(code, info, store.verify_commit(code, info.sha)),
            }
        )
    return result
