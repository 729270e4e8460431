"""Writes a delegate signs on their own machine: a version's commit and a head's approval.

Each is two steps. The first checks everything the write checks today and answers a signing
request (server/services/signing_requests.py) with the exact bytes to sign; the second checks
the signature by a registered key of someone allowed to make it, then writes. Custodial
parties may use the same steps with a key of their own; for a self-custody party they are the
only way to write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from keys.protocol import APPROVAL_NAMESPACE, GIT_NAMESPACE
from repo_store.commits import Identity, PreparedCommit, SignatureCheck
from repo_store.errors import UnknownVersion
from server.db import db_session
from server.models import Approval, User
from server.permissions import Access, can_write_for, document_access, find_review, may_approve
from server.services import audit, signing_requests
from server.services.approvals import draft_approval, record_approval
from server.services.attachments import blob_store
from server.services.client_attachments import ATTACHMENT
from server.services.context import services
from server.services.documents import NOT_FOUND, SavedDocument, get_document, saved, writable
from server.services.errors import Conflict, Invalid, NotFound
from server.services.parties import find_party
from server.services.signing_requests import IssuedRequest

VERSION = "version"
APPROVAL = "approval"


def request_version(user: User, code: str, slug: str, data: dict[str, Any]) -> IssuedRequest:
    """Build the commit of a new version as PUT would, and ask the user to sign it."""
    party, metadata = writable(user, code, slug, data)
    store = services().store
    base = data.get("base")
    try:
        files = store.document_files(code, slug, data["content"], metadata, base=base)
    except UnknownVersion as exc:
        raise Invalid(str(exc), "unknown-base") from exc
    if files is None:
        raise Conflict(
            "this version would change nothing: it is the current version already",
            "unchanged",
            head=base,
        )
    prepared = store.prepare_commit(
        code,
        slug,
        files,
        author=Identity(user.name or user.email, user.email),
        committer_name=party.name,
        message=data["message"],
        precondition=store.still_based_on(code, slug, base),
    )
    return signing_requests.issue_commit(user, party, VERSION, prepared, {"created": base is None})


def sign_version(user: User, code: str, slug: str, token: str, signature: str) -> SavedDocument:
    """Write the requested commit (a version, or an attachment's pointer) with the user's
    signature (git's, namespace git)."""
    party = find_party(code)
    if Access.WRITE not in document_access(user, code):
        raise NotFound(NOT_FOUND)
    request = signing_requests.find(
        user, token, (VERSION, ATTACHMENT), party_id=party.id, slug=slug
    )
    key, canonical = signing_requests.check_signature(
        request, signature, GIT_NAMESPACE, lambda row: can_write_for(row.user, code)
    )
    detail = signing_requests.detail_of(request)
    files = {path: text.encode() for path, text in detail["files"].items()}
    prepared = PreparedCommit(code, slug, request.parent, files, request.payload)
    signing_requests.claim(request)
    store = services().store
    if request.kind == ATTACHMENT:
        return _write_attachment(user, prepared, canonical, detail, key.fingerprint)
    try:
        sha = store.write_signed(prepared, canonical)
    except BaseException:
        db_session().rollback()  # the request stays open: nothing was written
        raise
    store.remember_version(code, slug, sha)
    # The signature was checked a moment ago, by this key: say so rather than check it again.
    check = SignatureCheck("good", key.fingerprint, code, key.user.email, held_by_server=False)
    created = bool(detail["created"])
    return saved(user, code, slug, sha, created, check, key=key.fingerprint)


def _write_attachment(
    user: User, prepared: PreparedCommit, signature: str, detail: dict[str, Any], key: str
) -> SavedDocument:
    """Place the staged blob, then write the signed commit naming it: the blob is durable
    before any pointer to it, and removed again if the commit cannot be written."""
    blobs = blob_store()
    placed = blobs.place_staged(detail["staged"], detail["sha256"])
    try:
        commit = services().store.write_signed(prepared, signature)
    except BaseException:
        db_session().rollback()
        if placed:
            blobs.remove(detail["sha256"])
        raise
    code, slug = prepared.party, prepared.slug
    where = f"{code}/{slug}/{detail['attachment']}"
    audit.record(user, detail["action"], where, commit=commit, key=key)
    db_session().commit()
    return SavedDocument(get_document(user, code, slug, None), False)


def request_approval(user: User, rid: str, data: dict[str, Any]) -> IssuedRequest:
    """Build the statement a head approves a version with, and ask the head to sign it."""
    draft = draft_approval(user, rid, data)
    if draft.existing is not None:
        raise Conflict("this version is approved already", "approved")
    return signing_requests.issue(
        user,
        draft.party,
        APPROVAL,
        draft.slug,
        draft.statement,
        parent=draft.version,
        review_id=draft.review.id,
        detail={"approved_at": draft.approved_at.isoformat()},
    )


def sign_approval(user: User, rid: str, token: str, signature: str) -> Approval:
    """Record the requested approval with the head's signature (namespace peerlex-approval)."""
    review = find_review(user, rid)
    request = signing_requests.find(user, token, (APPROVAL,), review_id=review.id)
    detail = signing_requests.detail_of(request)
    code = request.party.code
    asked = {"party": code, "slug": request.slug, "version": request.parent}
    draft = draft_approval(user, rid, asked, datetime.fromisoformat(detail["approved_at"]))
    if draft.existing is not None:
        raise Conflict("this version is approved already", "approved")
    if draft.statement != request.payload:
        # The review moved on in between (its slug, a participant): the statement would lie.
        raise Conflict("the review changed since the request; ask for a new one", "stale-request")
    key, canonical = signing_requests.check_signature(
        request, signature, APPROVAL_NAMESPACE, lambda row: may_approve(row.user, code)
    )
    signing_requests.claim(request)
    return record_approval(user, draft, canonical, key=key.fingerprint)
