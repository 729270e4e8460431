"""The API's request and response shapes (marshmallow); the OpenAPI document is made from them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from repo_store.names import PARTY_CODE, SHA, SLUG
from server.characters import multi_line_refusal, single_line_refusal, unify_line_breaks
from server.models import ID_MAX

DOCUMENT_KINDS = ("law", "regulation", "control-list", "action-plan", "report", "other")
# BCP 47 language tags as documents use them: `ru`, `en`, `en-GB`, `sr-Latn`.
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# A document's text; its blocks are limited too (PEERLEX_MAX_DOCUMENT_BLOCKS, docs/deployment.md).
MAX_DOCUMENT_CHARS = 5_000_000


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


def single_line(value: str) -> None:
    refusal = single_line_refusal(value)
    if refusal is not None:
        raise ValidationError(refusal)


def _multi_line(value: str) -> None:
    refusal = multi_line_refusal(value)
    if refusal is not None:
        raise ValidationError(refusal)


class UtcDateTime(fields.DateTime):
    """A time in UTC, always written with its offset (`+00:00`).

    The database keeps UTC times without a zone; one read back so is UTC, and said so here.
    """

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class FullMatch(validate.Validator):
    """The whole value must match the pattern (marshmallow's Regexp accepts a matching prefix)."""

    default_message = "String does not match expected pattern."

    def __init__(self, regex: re.Pattern[str], *, error: str | None = None) -> None:
        # Anchored, so that the OpenAPI document, where a pattern may match anywhere in a
        # value, says the same as this check.
        self.regex = re.compile(f"^(?:{regex.pattern})$", regex.flags)
        self.error = error or self.default_message

    def _repr_args(self) -> str:
        return f"regex={self.regex!r}"

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self.error or self.default_message)
        return value


class MultiLineText(fields.String):
    """Text of several lines (a commit message, a comment): CR LF arrives as LF."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        return unify_line_breaks(text)


class StrictSchema(Schema):
    """Unknown fields are an error (the default, spelt out)."""

    class Meta:
        unknown = "raise"


class CredentialsSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    code = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a code of your authenticator app, or a recovery code"},
    )


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = UtcDateTime(required=True)
    recovery_codes_left = fields.Integer(
        metadata={"description": "after signing in with a second factor"}
    )


class MembershipSchema(Schema):
    party = fields.String(required=True)
    role = fields.String(required=True)


class MeSchema(Schema):
    email = fields.String(required=True)
    name = fields.String()
    is_admin = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipSchema))
    csrf_token = fields.String(metadata={"description": "send as X-CSRFToken on cookie writes"})


class PartySchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)


class AuthorSchema(Schema):
    name = fields.String()
    email = fields.String()


class SignatureSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["good", "bad", "missing"]))
    fingerprint = fields.String(allow_none=True)
    party = fields.String(allow_none=True)
    signer = fields.String(
        allow_none=True, metadata={"description": "whose registered key signed; null: the party's"}
    )
    held_by_server = fields.Boolean(metadata={"description": "the server held the signing key"})


class VersionSchema(Schema):
    commit = fields.String(required=True)
    parent = fields.String(allow_none=True)
    author = fields.Nested(AuthorSchema)
    message = fields.String()
    committed_at = UtcDateTime()
    signature = fields.Nested(SignatureSchema)


class DocumentSummarySchema(Schema):
    party = fields.String(required=True)
    slug = fields.String(required=True)
    title = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    version = fields.Nested(VersionSchema)


class DocumentSchema(DocumentSummarySchema):
    content = fields.String(required=True)


class DocumentPutSchema(StrictSchema):
    content = fields.String(
        required=True, validate=[validate.Length(max=MAX_DOCUMENT_CHARS), _no_nul]
    )
    message = MultiLineText(required=True, validate=[validate.Length(min=1, max=5000), _multi_line])
    base = fields.String(
        load_default=None,
        validate=FullMatch(SHA, error="base must be a 40-character commit id"),
    )
    title = fields.String(
        load_default=None, validate=[validate.Length(min=1, max=500), single_line]
    )
    kind = fields.String(load_default=None, validate=validate.OneOf(DOCUMENT_KINDS))
    language = fields.String(
        load_default=None,
        validate=FullMatch(LANGUAGE, error="language must be a BCP 47 tag such as ru"),
    )

    @validates("content")
    def _content_text(self, value: str, **_: Any) -> None:
        # Surrogates cannot be stored as UTF-8; JSON can smuggle them in as \\ud800 escapes.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError("must be valid Unicode text") from exc


class VersionQuerySchema(StrictSchema):
    version = fields.String(
        load_default=None,
        validate=FullMatch(SHA, error="version must be a 40-character commit id"),
    )


def version_from_header(value: str) -> str:
    """A commit id from an If-Match header (quoted or not), or a 422."""
    from server.errors import Problem

    sha = value.strip().strip('"')
    if not SHA.fullmatch(sha):
        raise Problem(422, "If-Match must carry a 40-character commit id", "invalid-base")
    return sha


REVIEW_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class ReviewCreateSchema(StrictSchema):
    slug = fields.String(required=True, validate=FullMatch(REVIEW_SLUG))
    title = fields.String(required=True, validate=[validate.Length(min=1, max=300), single_line])
    states = fields.List(
        fields.String(validate=FullMatch(PARTY_CODE)),
        required=True,
        validate=validate.Length(min=1, max=200),
    )
    organisers = fields.List(
        fields.String(validate=FullMatch(PARTY_CODE)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    observers = fields.List(
        fields.String(validate=FullMatch(PARTY_CODE)),
        load_default=list,
        validate=validate.Length(max=50),
    )


class ReviewSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)
    created_at = UtcDateTime()
    states = fields.List(fields.String())
    organisers = fields.List(fields.String())
    observers = fields.List(fields.String())


class ReviewPatchSchema(StrictSchema):
    state = fields.String(required=True, validate=validate.OneOf(["agreement", "closed"]))


class ShareCreateSchema(StrictSchema):
    party = fields.String(required=True, validate=FullMatch(PARTY_CODE))
    slug = fields.String(required=True, validate=FullMatch(SLUG))
    version = fields.String(required=True, validate=FullMatch(SHA))


class ShareSchema(Schema):
    party = fields.String(required=True)
    slug = fields.String(required=True)
    version = fields.String(required=True)
    shared_by = fields.String()
    shared_at = UtcDateTime()


COMMENT_BODY: list[Callable[[str], Any]] = [validate.Length(min=1, max=20_000), _multi_line]
COMMENT_STATUSES = ("open", "resolved", "accepted", "rejected")


class CommentCreateSchema(StrictSchema):
    party = fields.String(validate=FullMatch(PARTY_CODE))
    slug = fields.String(validate=FullMatch(SLUG))
    version = fields.String(validate=FullMatch(SHA))
    quote = fields.String(validate=[validate.Length(min=1, max=5000), _no_nul])
    prefix = fields.String(validate=[validate.Length(max=200), _no_nul])
    suffix = fields.String(validate=[validate.Length(max=200), _no_nul])
    block = fields.String(validate=[validate.Length(max=200), single_line])
    body = MultiLineText(required=True, validate=COMMENT_BODY)
    parent = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))


class CommentPatchSchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(COMMENT_STATUSES))
    body = MultiLineText(validate=COMMENT_BODY)


class AnchorSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(["current", "moved", "changed", "orphaned"])
    )
    block = fields.String(allow_none=True)
    start = fields.Integer(allow_none=True)
    end = fields.Integer(allow_none=True)
    quote = fields.String()
    version = fields.String()


class CommentSchema(Schema):
    id = fields.Integer(required=True)
    party = fields.String()
    slug = fields.String()
    version = fields.String()
    parent = fields.Integer(allow_none=True)
    author = fields.String()
    author_party = fields.String()
    body = fields.String()
    status = fields.String()
    quote = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    anchor = fields.Nested(AnchorSchema)


class CommentQuerySchema(StrictSchema):
    party = fields.String(load_default=None, validate=FullMatch(PARTY_CODE))
    slug = fields.String(load_default=None, validate=FullMatch(SLUG))
    version = fields.String(load_default=None, validate=FullMatch(SHA))
    status = fields.String(load_default=None, validate=validate.OneOf(COMMENT_STATUSES))


class DiffQuerySchema(StrictSchema):
    from_ = fields.String(
        data_key="from", load_default=None, validate=FullMatch(SHA, error="not a commit id")
    )
    to = fields.String(load_default=None, validate=FullMatch(SHA, error="not a commit id"))
    format = fields.String(
        load_default="json", validate=validate.OneOf(["json", "unified", "html"])
    )
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={
            "description": "json and html come in pages of at most PEERLEX_PAGE_BLOCKS blocks "
            "(500) and PEERLEX_PAGE_CHARS characters (200,000); unified is one page"
        },
    )


class DiffPageSchema(Schema):
    """One page of a structural comparison (format=json); `Link` names the next and previous.

    Dumped from a DiffPage.
    """

    party = fields.String(required=True)
    slug = fields.String(required=True)
    from_ = fields.String(data_key="from", attribute="old", allow_none=True, required=True)
    to = fields.String(attribute="new", required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    first_block = fields.Integer(
        required=True, metadata={"description": "index of this page's first block, from 0"}
    )
    blocks_total = fields.Integer(required=True)
    blocks = fields.List(
        fields.Dict(), required=True, metadata={"description": "docs/formats.md, the diff"}
    )
    warnings = fields.List(fields.Dict(), metadata={"description": "of the whole comparison"})
    stats = fields.Dict(metadata={"description": "counts of the whole comparison"})


class ApprovalCreateSchema(ShareCreateSchema):
    """The document version a State head approves."""


class ApprovalSchema(Schema):
    party = fields.String(required=True)
    slug = fields.String(required=True)
    version = fields.String(required=True)
    approved_by = fields.String()
    approved_at = UtcDateTime()
    statement = fields.String(metadata={"description": "the canonical JSON that was signed"})
    signature = fields.String(metadata={"description": "SSHSIG, namespace peerlex-approval"})
    voided = fields.Boolean()
    signature_check = fields.Nested(
        SignatureSchema,
        metadata={"description": "how the signature checks and whose key made it, as a version's"},
    )


class RecipientCreateSchema(StrictSchema):
    recipient = fields.String(
        required=True, validate=FullMatch(re.compile(r"age1[02-9ac-hj-np-z]{58}"))
    )
    label = fields.String(load_default="", validate=[validate.Length(max=200), single_line])


class RecipientSchema(Schema):
    """Dumped from an OfflineRecipient row."""

    party = fields.String(required=True, attribute="party.code")
    recipient = fields.String(required=True)
    label = fields.String()
    created_at = UtcDateTime()


class AttachmentUploadQuerySchema(StrictSchema):
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=1000))
    base = fields.String(load_default=None, validate=FullMatch(SHA))


class AttachmentSchema(Schema):
    party = fields.String(required=True)
    slug = fields.String(required=True)
    id = fields.String(required=True)
    name = fields.String(required=True)
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String(metadata={"description": "sha256 of the encrypted blob"})
    recipients = fields.List(fields.String())
    created_at = UtcDateTime()
    uploaded_by = fields.String()
    waiting_for = fields.List(
        fields.String(), metadata={"description": "entitled parties it is not encrypted to yet"}
    )


class BundleInfoSchema(Schema):
    review = fields.String(required=True)
    sha256 = fields.String(required=True)
    size = fields.Integer()
    documents = fields.Integer()
    attachments = fields.Integer()


class AuditQuerySchema(StrictSchema):
    after = fields.Integer(
        load_default=-1,
        validate=validate.Range(min=-1, max=ID_MAX),
        metadata={"description": "answer entries with a larger leaf index (for paging)"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    size = fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=ID_MAX),
        metadata={"description": "tree size for the proofs (default: the latest checkpoint's)"},
    )
    review = fields.String(load_default=None, validate=FullMatch(SLUG))


class AuditCheckpointSchema(Schema):
    id = fields.Integer()
    size = fields.Integer(required=True)
    root = fields.String(required=True, metadata={"description": "tree head, hex SHA-256"})
    time = fields.String(required=True, metadata={"description": "ISO 8601 UTC"})
    statement = fields.String(
        required=True, metadata={"description": "the canonical JSON that was signed"}
    )
    signature = fields.String(
        required=True, metadata={"description": "SSHSIG, namespace peerlex-audit"}
    )
    signer = fields.String(metadata={"description": "principal in allowed_signers"})


class AuditLeafSchema(Schema):
    """The fields a leaf hash covers: SHA-256(0x00 || canonical JSON of these)."""

    index = fields.Integer(required=True)
    at = fields.String(required=True)
    user = fields.String(allow_none=True)
    action = fields.String(required=True)
    target = fields.String(required=True)
    review_id = fields.Integer(allow_none=True)
    request_id = fields.String(required=True)
    outcome = fields.String(required=True)
    details = fields.Raw()


class AuditEntrySchema(Schema):
    leaf = fields.Nested(AuditLeafSchema, required=True)
    leaf_hash = fields.String(required=True)
    proof = fields.List(
        fields.String(), metadata={"description": "RFC 6962 audit path, hex, leaf first"}
    )


class AuditPageSchema(Schema):
    size = fields.Integer(required=True, metadata={"description": "tree size of the proofs"})
    root = fields.String(required=True, metadata={"description": "tree head at that size"})
    log_size = fields.Integer()
    checkpoint = fields.Nested(AuditCheckpointSchema)
    entries = fields.List(fields.Nested(AuditEntrySchema))
    next_after = fields.Integer(allow_none=True)


class AuditConsistencyQuerySchema(StrictSchema):
    from_ = fields.Integer(
        data_key="from", required=True, validate=validate.Range(min=0, max=ID_MAX)
    )
    to = fields.Integer(load_default=None, validate=validate.Range(min=0, max=ID_MAX))


class AuditConsistencySchema(Schema):
    from_ = fields.Integer(data_key="from", required=True)
    to = fields.Integer(required=True)
    from_root = fields.String()
    to_root = fields.String()
    proof = fields.List(fields.String(), metadata={"description": "RFC 6962 §2.1.2, hex"})
