"""The API's request and response shapes (marshmallow); the OpenAPI document is made from them."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from repo_store.names import PARTY_CODE, SHA

DOCUMENT_KINDS = ("law", "regulation", "control-list", "action-plan", "report", "other")
# BCP 47 language tags as documents use them: `ru`, `en`, `en-GB`, `sr-Latn`.
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
MAX_DOCUMENT_CHARS = 10_000_000


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


class StrictSchema(Schema):
    """Unknown fields are an error (the default, spelt out)."""

    class Meta:
        unknown = "raise"


class CredentialsSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


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


class PartyPathSchema(Schema):
    party = fields.String(required=True, validate=validate.Regexp(PARTY_CODE))


class AuthorSchema(Schema):
    name = fields.String()
    email = fields.String()


class SignatureSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["good", "bad", "missing"]))
    fingerprint = fields.String(allow_none=True)
    party = fields.String(allow_none=True)


class VersionSchema(Schema):
    commit = fields.String(required=True)
    parent = fields.String(allow_none=True)
    author = fields.Nested(AuthorSchema)
    message = fields.String()
    committed_at = fields.DateTime()
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
    message = fields.String(required=True, validate=[validate.Length(min=1, max=5000), _no_nul])
    base = fields.String(
        load_default=None,
        validate=validate.Regexp(SHA, error="base must be a 40-character commit id"),
    )
    title = fields.String(load_default=None, validate=[validate.Length(min=1, max=500), _no_nul])
    kind = fields.String(load_default=None, validate=validate.OneOf(DOCUMENT_KINDS))
    language = fields.String(
        load_default=None,
        validate=validate.Regexp(LANGUAGE, error="language must be a BCP 47 tag such as ru"),
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
        validate=validate.Regexp(SHA, error="version must be a 40-character commit id"),
    )


def version_from_header(value: str) -> str:
    """A commit id from an If-Match header (quoted or not), or a 422."""
    from server.errors import Problem

    sha = value.strip().strip('"')
    if not SHA.fullmatch(sha):
        raise Problem(422, "If-Match must carry a 40-character commit id", "invalid-base")
    return sha
