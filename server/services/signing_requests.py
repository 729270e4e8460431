"""Signing requests: what the server builds for a delegate to sign on their own machine.

The server makes the exact bytes (a version's commit object, an approval statement), hands out
a random single-use id that expires, and accepts the result only when a signature over exactly
those bytes, in the right namespace, verifies by a registered, unrevoked key of a member of the
State allowed to make it. Nothing is written before that; a refused signature leaves the
request as it was, so the delegate may sign again until it expires.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from keys import sshsig
from keys.ssh_keys import SshPublicKey, parse_public_key_line
from repo_store.commits import PreparedCommit
from repo_store.listing import tree_listing
from server.db import db_session
from server.models import Party, SigningRequest, User, UserKey, utcnow
from server.permissions import key_namespaces
from server.services.context import services
from server.services.errors import Conflict, Gone, Invalid, NotFound

LIFETIME = timedelta(minutes=5)
# Kept a day after expiry, so that a late answer hears "expired" rather than "no such request".
KEPT_AFTER_EXPIRY = timedelta(days=1)
TOKEN_BYTES = 32
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
NO_REQUEST = "no such signing request, or it was used"
MAX_OPEN_PER_USER = 20


@dataclass(frozen=True)
class IssuedRequest:
    """A request as its requester receives it: the id to answer with and the bytes to sign."""

    token: str
    payload: bytes
    expires_at: datetime
    # For a commit: every file of its tree with its blob id, and the text of the files it
    # writes, so the signer can check the tree the payload names.
    tree: dict[str, str] | None = None
    files: dict[str, str] | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    user: User,
    party: Party,
    kind: str,
    slug: str,
    payload: bytes,
    *,
    parent: str | None = None,
    review_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> IssuedRequest:
    """Record a request for user to sign payload; return its id, shown this once."""
    session = db_session()
    now = utcnow()
    session.execute(
        delete(SigningRequest).where(SigningRequest.expires_at < now - KEPT_AFTER_EXPIRY)
    )
    # Each request keeps what it would write (a whole document, at most) until it expires.
    open_requests = session.scalar(
        select(func.count()).where(
            SigningRequest.user_id == user.id,
            SigningRequest.used_at.is_(None),
            SigningRequest.expires_at > now,
        )
    )
    if (open_requests or 0) >= MAX_OPEN_PER_USER:
        raise Conflict(
            f"you have {MAX_OPEN_PER_USER} signing requests open; answer them or let them "
            "expire first",
            "too-many-open-requests",
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = SigningRequest(
        token_hash=_hash(token),
        kind=kind,
        user_id=user.id,
        party_id=party.id,
        slug=slug,
        review_id=review_id,
        parent=parent,
        payload=payload,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(row)
    session.commit()
    return IssuedRequest(token, payload, row.expires_at)


def issue_commit(
    user: User, party: Party, kind: str, prepared: PreparedCommit, detail: dict[str, Any]
) -> IssuedRequest:
    """Ask user to sign a prepared commit; the request keeps the files it writes."""
    files = {path: data.decode() for path, data in prepared.files.items()}
    issued = issue(
        user,
        party,
        kind,
        prepared.slug,
        prepared.payload,
        parent=prepared.parent,
        detail={**detail, "files": files},
    )
    tree = tree_listing(services().store, prepared)
    return dataclasses.replace(issued, tree=tree, files=files)


def find(user: User, token: str, kinds: tuple[str, ...], **route: Any) -> SigningRequest:
    """The user's open request with this id, made for this route (party, slug or review).

    A request is its requester's: anyone else, like an unknown or used id, hears 404.
    """
    if not TOKEN.fullmatch(token):
        raise NotFound(NO_REQUEST)
    digest = _hash(token)
    request = db_session().scalar(select(SigningRequest).where(SigningRequest.token_hash == digest))
    if (
        request is None
        or not hmac.compare_digest(request.token_hash, digest)
        or request.kind not in kinds
        or request.user_id != user.id
        or request.used_at is not None
        or any(getattr(request, name) != value for name, value in route.items())
    ):
        raise NotFound(NO_REQUEST)
    if request.expires_at <= utcnow():
        raise Gone(
            "this signing request expired; ask for a new one",
            "request-expired",
            expired_at=request.expires_at.isoformat(),
        )
    return request


def detail_of(request: SigningRequest) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(request.detail)
    return detail


def check_signature(
    request: SigningRequest,
    armored: str,
    namespace: str,
    may_sign: Callable[[UserKey], bool],
) -> tuple[UserKey, str]:
    """Which registered key made armored over the request's payload, and the signature in
    canonical armor (what is stored); Invalid when no key allowed to sign did.

    The key must be registered for the request's party, unrevoked, for a role that signs in
    namespace, and may_sign says whether its owner may make this signature now.
    """
    try:
        envelope = sshsig.read_envelope(armored)
        named = SshPublicKey("", envelope.public_key_blob, "").fingerprint
        row = db_session().scalar(
            select(UserKey).where(
                UserKey.fingerprint == named, UserKey.party_id == request.party_id
            )
        )
        now = utcnow()
        if (
            row is None
            or row.valid_before is not None
            or row.valid_after > now
            or namespace not in key_namespaces(row.role)
            or not may_sign(row)
        ):
            raise sshsig.SignatureError("signature is not by any of the given keys")
        signer = sshsig.find_signer(
            armored, request.payload, namespace, [parse_public_key_line(row.public_key)]
        )
    except sshsig.SignatureError as exc:
        raise Invalid(
            f"the signature does not verify by a registered key allowed to sign this: {exc}",
            "bad-signature",
        ) from exc
    canonical = sshsig.armor(signer, namespace, envelope.hash_name.decode(), envelope.signature)
    return row, canonical


def claim(request: SigningRequest) -> None:
    """Mark the request used, once: of two answers racing (even in two workers), one wins.

    Not committed here: the caller commits it with what the write records, so a write that
    fails leaves the request as it was. Until then the row stays locked, and a racing answer
    waits for it and then finds it used.
    """
    session = db_session()
    claimed = session.execute(
        update(SigningRequest)
        .where(SigningRequest.id == request.id, SigningRequest.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise NotFound(NO_REQUEST)
