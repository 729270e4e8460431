"""The tables of one-time links: the first start's set-up link and invitations, and what they
share (a token kept only as its SHA-256, a lifetime, and one use)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.model_base import Base, utcnow

if TYPE_CHECKING:
    from server.models import Party, User


class OneTimeLink:
    """A link that works once, until it expires or is revoked: only the SHA-256 of its token
    (256 random bits) is stored, so a copy of the database opens nothing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    # Revoked by hand, or superseded by a newer link of the same kind.
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SetupLink(OneTimeLink, Base):
    """The link that creates a deployment's first administrator (server/services/setup.py)."""

    __tablename__ = "setup_links"


class Invitation(OneTimeLink, Base):
    """An invitation of a person (by email) to a party and role, made by an administrator or
    an organiser; its link sets the account's password (server/services/invitations.py)."""

    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(254), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    party: Mapped[Party] = relationship(lazy="joined")
    invited_by: Mapped[User | None] = relationship(lazy="joined")
