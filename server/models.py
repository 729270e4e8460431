"""The tables: parties, users, their keys and second factors, reviews, shares, comments,
approvals and the audit log (their declarative base is in server/model_base.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repo_store.names import SLUG
from server.model_base import ID_MAX as ID_MAX
from server.model_base import Base as Base
from server.model_base import utcnow as utcnow


class PartyKind(enum.StrEnum):
    STATE = "state"
    ORGANISATION = "organisation"


class Custody(enum.StrEnum):
    """Who holds a party's private keys: the server (wrapped by the master key), or the party's
    own people, on their machines."""

    SERVER = "server"
    SELF = "self"


class Role(enum.StrEnum):
    EXPERT = "expert"
    HEAD = "head"
    ORGANISER = "organiser"
    OBSERVER = "observer"


class Party(Base):
    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    custody: Mapped[str] = mapped_column(String(8), default=Custody.SERVER, server_default="server")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def holds_own_keys(self) -> bool:
        return self.custody == Custody.SELF


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )

    # flask-login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def role_in(self, party_code: str) -> Role | None:
        """The user's role in a party, or None when not a member."""
        for membership in self.memberships:
            if membership.party.code == party_code:
                return Role(membership.role)
        return None

    def party_codes(self) -> set[str]:
        return {membership.party.code for membership in self.memberships}


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="memberships")
    party: Mapped[Party] = relationship(lazy="joined")


class _HashedCredential:
    """What a user presents to be signed in (an API token, a session cookie's random id): only
    its SHA-256 is stored, so a copy of the database signs no one in; revoked ends it at once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiToken(_HashedCredential, Base):
    """A Bearer token; the token itself is shown once, when it is issued."""

    __tablename__ = "api_tokens"

    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class UserSession(_HashedCredential, Base):
    """A cookie session, held on the server so that logout and disable end it at once."""

    __tablename__ = "user_sessions"

    # Its last request (kept to the minute), for the idle limit; NULL: none since sign-in.
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # When its user last proved who they are: at sign-in, then at each confirmation with a
    # second factor (the confirm page), for step-up. NULL (older sessions): at sign-in.
    verified_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginFailure(Base):
    """A password guess that is being checked or was wrong, counted for sign-in throttling.

    The row is written before the password is checked (a claimed attempt) and deleted when the
    password proves right, so a guess still being checked counts as a failure (server/signin.py).
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FactorKind(enum.StrEnum):
    TOTP = "totp"
    WEBAUTHN = "webauthn"


class MfaFactor(Base):
    """A user's second factor: a TOTP secret, wrapped under the master key (keys/factor_secrets.py),
    or a WebAuthn credential (a security key or platform authenticator) and its public key.

    Pending until its first code is confirmed; only confirmed factors sign anyone in.
    """

    __tablename__ = "mfa_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=FactorKind.TOTP)
    label: Mapped[str] = mapped_column(String(200), default="")
    wrapped_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # The newest time step whose code was accepted: a code is accepted only for a later step,
    # and the column moves by compare-and-set, so two workers never accept one code twice.
    last_step: Mapped[int] = mapped_column(default=0)
    # WebAuthn only: the credential id (base64url, at most 1023 bytes), its COSE public key,
    # the authenticator's signature counter (moved by compare-and-set) and its transports.
    credential_id: Mapped[str | None] = mapped_column(String(1400), unique=True, default=None)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[str] = mapped_column(String(200), default="")


class WebAuthnChallenge(Base):
    """A WebAuthn challenge waiting for its answer: usable once, by one user, for one purpose,
    until it expires; only its SHA-256 is kept (server/services/security_keys.py)."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RecoveryCode(Base):
    """One single-use recovery code of a user: only its SHA-256 is stored (it has 120 bits)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class ReviewState(enum.StrEnum):
    OPEN = "open"
    AGREEMENT = "agreement"
    CLOSED = "closed"


class ParticipantRole(enum.StrEnum):
    STATE = "state"
    ORGANISER = "organiser"
    OBSERVER = "observer"


class CommentStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default=ReviewState.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    participants: Mapped[list[ReviewParticipant]] = relationship(
        back_populates="review", lazy="selectin", cascade="all, delete-orphan"
    )

    @classmethod
    def named(cls, rid: str) -> ColumnElement[bool]:
        """The condition for the review a URL names by id or slug; for anything else, none."""
        # str.isdigit() is true of "²" and other digits int() cannot read: ASCII only.
        if rid.isascii() and rid.isdigit():
            return cls.id == int(rid) if len(rid) <= 10 and int(rid) <= ID_MAX else false()
        return cls.slug == rid if SLUG.fullmatch(rid) else false()

    def parties_with(self, role: ParticipantRole) -> list[str]:
        return sorted(p.party.code for p in self.participants if p.role == role.value)

    def role_of(self, party_code: str) -> ParticipantRole | None:
        for participant in self.participants:
            if participant.party.code == party_code:
                return ParticipantRole(participant.role)
        return None


class ReviewParticipant(Base):
    __tablename__ = "review_participants"
    __table_args__ = (UniqueConstraint("review_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    role: Mapped[str] = mapped_column(String(16))

    review: Mapped[Review] = relationship(back_populates="participants")
    party: Mapped[Party] = relationship(lazy="joined")


class Share(Base):
    """A State made one version of one of its documents visible to a review."""

    __tablename__ = "shares"
    __table_args__ = (UniqueConstraint("review_id", "party_id", "slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(40))
    shared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    party: Mapped[Party] = relationship(lazy="joined")
    shared_by: Mapped[User] = relationship(lazy="joined")


class Comment(Base):
    """A comment anchored to a quote in one shared version (replies inherit the anchor)."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_party: Mapped[str] = mapped_column(String(16))
    body: Mapped[str]
    status: Mapped[str] = mapped_column(String(16), default=CommentStatus.OPEN.value)
    quote: Mapped[str]
    prefix: Mapped[str] = mapped_column(default="")
    suffix: Mapped[str] = mapped_column(default="")
    block: Mapped[str] = mapped_column(String(200))
    start: Mapped[int]
    end: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    party: Mapped[Party] = relationship(lazy="joined")
    author: Mapped[User] = relationship(lazy="joined")


class AnchorCache(Base):
    """A comment's anchor re-computed on another version; both are immutable, so it stays true."""

    __tablename__ = "anchor_cache"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    anchor: Mapped[str]


class AuditEntry(Base):
    """One write or denied attempt: who, what, when (UTC), request id and outcome."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300))
    review_id: Mapped[int | None] = mapped_column(default=None)
    request_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(default="{}")
    # Position in the Merkle tree and SHA-256(0x00 || leaf JSON) in hex (docs/audit.md); set
    # inside the inserting transaction, so NULL only while that transaction runs.
    leaf_index: Mapped[int | None] = mapped_column(default=None, unique=True)
    leaf_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class Approval(Base):
    """A State head's signed approval of one document's final version in a review."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    slug: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str]
    signature: Mapped[str]
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a newer version of the document is shared into the review after the approval.
    voided_at: Mapped[datetime | None] = mapped_column(default=None)

    party: Mapped[Party] = relationship(lazy="joined")
    approved_by: Mapped[User] = relationship(lazy="joined")


class OfflineRecipient(Base):
    """An organisation's age recipient whose identity is kept offline (never on the server)."""

    __tablename__ = "offline_recipients"
    __table_args__ = (UniqueConstraint("party_id", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    recipient: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200), default="")
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    party: Mapped[Party] = relationship(lazy="joined")


class UserKey(Base):
    """A user's own SSH public key, published with the party and role it was registered for.

    A row is never deleted: revoking sets valid_before, and the key stays in the party's public
    history and in allowed_signers so that what it signed before stays verifiable.
    """

    __tablename__ = "user_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    role: Mapped[str] = mapped_column(String(16))
    key_type: Mapped[str] = mapped_column(String(64))
    # "<type> <base64>", without the comment; RSA keys of 16384 bits stay well under this.
    public_key: Mapped[str] = mapped_column(String(4096))
    # One key belongs to one person: the same key is never registered twice in a deployment.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    comment: Mapped[str] = mapped_column(String(200), default="")
    valid_after: Mapped[datetime] = mapped_column(default=utcnow)
    valid_before: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])
    party: Mapped[Party] = relationship(lazy="joined")


class SigningRequest(Base):
    """Something the server built for a person to sign on their own machine: a version's
    commit, an attachment's commit, or an approval statement.

    The id handed out is a bearer of the right to complete it, so only its hash is stored; it
    is used once and expires.
    """

    __tablename__ = "signing_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "version" | "approval"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    slug: Mapped[str] = mapped_column(String(64))
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), default=None
    )
    # The commit the prepared commit builds on (versions), or the version approved.
    parent: Mapped[str | None] = mapped_column(String(40), default=None)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # The files a commit records, as JSON {path: text}; the details of an approval.
    detail: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined")
    party: Mapped[Party] = relationship(lazy="joined")


class BundleRewrap(Base):
    """An attachment blob re-wrapped for a set of offline recipients, reused on rebuild.

    Age headers hold fresh random keys, so re-wrapping twice would give different bytes; reusing
    the first result keeps a rebuilt bundle byte-identical.
    """

    __tablename__ = "bundle_rewraps"

    source_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipients: Mapped[str] = mapped_column(String(2000), primary_key=True)
    result_sha256: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed tree head of the audit log: its size, root hash and time (docs/audit.md)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int]
    root_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    # The exact canonical JSON that was signed, and its SSHSIG (namespace peerlex-audit).
    statement: Mapped[str]
    signature: Mapped[str]


# The one-time links' tables live in a module of their own; importing it here registers them
# with the metadata wherever the models are used.
from server.link_models import Invitation as Invitation  # noqa: E402
from server.link_models import SetupLink as SetupLink  # noqa: E402
