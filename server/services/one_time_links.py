"""One-time links (the set-up link, invitations): a random token shown once, kept only as its
SHA-256, found in constant time, and used at most once by a compare-and-set."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TypeVar

from sqlalchemy import select, update

from server.db import db_session
from server.link_models import OneTimeLink
from server.model_base import utcnow

# 32 random bytes: 256 bits, so SHA-256 alone (no salt, no slow hash) keeps a copy of the
# database from opening any link (docs/decisions.md).
TOKEN_BYTES = 32
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

Link = TypeVar("Link", bound=OneTimeLink)


def new_token() -> tuple[str, str]:
    """A fresh token and the digest stored for it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(base_url: str, path: str, token: str) -> str:
    """The absolute URL of a link: the deployment's address, a page's path, the token."""
    return f"{base_url.rstrip('/')}/{path.strip('/')}/{token}"


def usable_link(model: type[Link], token: str) -> Link | None:
    """The link whose token this is, if it is neither used, revoked nor expired; else None
    (a malformed or unknown token, too: the caller never learns which)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    digest = token_digest(token)
    found = db_session().scalar(select(model).where(model.token_hash == digest))
    if found is None or not hmac.compare_digest(found.token_hash, digest):
        return None
    if found.used_at is not None or found.revoked_at is not None or found.expires_at <= utcnow():
        return None
    return found


def claim_link(model: type[Link], link: Link) -> bool:
    """Mark the link used, if it still is usable, in the open transaction; answer whether this
    call did. Two requests racing with one token: the database lets one of them win."""
    now = utcnow()
    claimed = db_session().execute(
        update(model)
        .where(
            model.id == link.id,
            model.used_at.is_(None),
            model.revoked_at.is_(None),
            model.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(claimed, "rowcount", 0) or 0) == 1
