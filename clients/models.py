"""What the peerlex API answers, as typed dictionaries (the OpenAPI document has the rest)."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Token(TypedDict):
    token: str
    expires_at: str
    recovery_codes_left: NotRequired[int]


class Membership(TypedDict):
    party: str
    role: str


class Me(TypedDict):
    email: str
    name: NotRequired[str]
    is_admin: bool
    memberships: list[Membership]


class Party(TypedDict):
    code: str
    name: str
    kind: str


class Author(TypedDict):
    name: str
    email: str


class Signature(TypedDict):
    status: str
    fingerprint: str | None
    party: str | None
    signer: NotRequired[str | None]
    held_by_server: NotRequired[bool]


class Version(TypedDict):
    commit: str
    parent: str | None
    author: Author
    message: str
    committed_at: str
    signature: Signature


class DocumentSummary(TypedDict):
    party: str
    slug: str
    title: str | None
    kind: str | None
    language: str | None
    version: Version


class Document(DocumentSummary):
    content: str


class Attachment(TypedDict):
    party: str
    slug: str
    id: str
    name: str
    media_type: str
    size: int
    sha256: str
    recipients: list[str]
    created_at: str
    uploaded_by: str
    waiting_for: NotRequired[list[str]]


class Recipient(TypedDict):
    party: str
    recipient: str
    label: str
    created_at: str


class UserKey(TypedDict):
    fingerprint: str
    type: str
    public_key: str
    comment: str
    party: str
    role: str
    valid_after: str
    valid_before: str | None
    owner: NotRequired[str]  # in a party's key history


class Invitation(TypedDict):
    id: int
    email: str
    party: str
    role: str
    invited_by: str | None
    created_at: str
    expires_at: str
    url: NotRequired[str]  # only in the answer that made it
    mailed: NotRequired[bool]  # likewise: whether the server mailed the link too


class Review(TypedDict):
    id: int
    slug: str
    title: str
    state: str
    created_at: str
    states: list[str]
    organisers: list[str]
    observers: list[str]


class Share(TypedDict):
    party: str
    slug: str
    version: str
    shared_by: str
    shared_at: str


class Anchor(TypedDict):
    status: str
    block: str | None
    start: int | None
    end: int | None
    quote: str
    version: str


class Comment(TypedDict):
    id: int
    party: str
    slug: str
    version: str
    parent: int | None
    author: str
    author_party: str
    body: str
    status: str
    quote: str
    created_at: str
    updated_at: str
    anchor: Anchor


class OfflineCopy(TypedDict):
    review: str
    recipients: list[str]
    stored: bool


class SigningRequest(TypedDict):
    id: str
    payload: str
    expires_at: str
    tree: NotRequired[dict[str, str]]
    files: NotRequired[dict[str, str]]


class Approval(TypedDict):
    party: str
    slug: str
    version: str
    approved_by: str
    approved_at: str
    statement: str
    signature: str
    voided: bool


class BundleInfo(TypedDict):
    review: str
    sha256: str
    size: int
    documents: int
    attachments: int


class TotpEnrolment(TypedDict):
    id: int
    secret: str
    otpauth_uri: str


class Factor(TypedDict):
    id: int
    kind: str
    label: str
    created_at: str
    confirmed_at: str | None


class FactorList(TypedDict):
    factors: list[Factor]
    recovery_codes_left: int
