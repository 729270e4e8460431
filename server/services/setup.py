"""The first start: a one-time set-up link, printed by `peerlex-server init` or `setup-link`
while the deployment has no administrator, whose page creates the first one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from server import link_models
from server.db import db_session
from server.model_base import utcnow
from server.models import User
from server.passwords import check_password_rules
from server.services import audit
from server.services.one_time_links import claim_link, link_url, new_token, usable_link
from server.services.users import (
    ADMIN,
    AccountRefused,
    InvalidAccountField,
    add_user,
    check_user_fields,
    normalise_email,
)

SETUP_LINK_LIFETIME = timedelta(hours=24)
SETUP_PATH = "/setup"
ADMIN_EXISTS = (
    "an administrator exists already: the set-up link is only for a deployment without one; "
    "sign in, or ask an administrator for an invitation"
)


class SetupLinkUnusable(Exception):
    """The set-up link was used, expired, superseded or altered, or an administrator exists."""


def admin_exists() -> bool:
    return db_session().scalar(select(User.id).where(User.is_admin).limit(1)) is not None


def any_user() -> bool:
    return db_session().scalar(select(User.id).limit(1)) is not None


def issue_setup_link(base_url: str) -> str:
    """A fresh set-up link as an absolute URL under base_url, and commit; every older unused
    link stops working. Refused (AccountRefused) once an administrator exists."""
    if admin_exists():
        raise AccountRefused(ADMIN_EXISTS)
    session = db_session()
    now = utcnow()
    superseded = session.execute(
        update(link_models.SetupLink)
        .where(link_models.SetupLink.used_at.is_(None), link_models.SetupLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token, digest = new_token()
    link = link_models.SetupLink(
        token_hash=digest, created_at=now, expires_at=now + SETUP_LINK_LIFETIME
    )
    session.add(link)
    session.flush()
    audit.record(
        None,
        "setup.link",
        f"setup-link/{link.id}",
        expires_at=link.expires_at.isoformat(),
        superseded=int(getattr(superseded, "rowcount", 0) or 0),
    )
    session.commit()
    return link_url(base_url, SETUP_PATH, token)


def usable_setup_link(token: str) -> link_models.SetupLink | None:
    """The set-up link of this token while it may still create the first administrator."""
    if admin_exists():
        return None
    return usable_link(link_models.SetupLink, token)


def create_first_admin(token: str, email: str, password: str, repeated: str) -> User:
    """Create the first administrator with the set-up link, in one transaction, and use it up.

    Bad input raises InvalidAccountField or WeakPassword and writes nothing; a link that may
    not (or no longer) be used raises SetupLinkUnusable and writes nothing.
    """
    link = usable_setup_link(token)
    if link is None:
        raise SetupLinkUnusable()
    email = normalise_email(email)
    check_user_fields(email, "", ADMIN)
    if password != repeated:
        raise InvalidAccountField("password", "the two passwords differ")
    check_password_rules(password, email=email)
    session = db_session()
    try:
        if not claim_link(link_models.SetupLink, link):
            raise SetupLinkUnusable()
        audit.record(None, "setup.first-admin", email, link=link.id)
        # add_user commits: the link's use, the audit entry and the account, together.
        return add_user(email, password, ADMIN)
    except (AccountRefused, SetupLinkUnusable):
        session.rollback()
        raise
