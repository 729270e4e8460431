"""Schemas of users' own keys and of the writes they sign: the requests and the answers."""

from __future__ import annotations

import re

from marshmallow import Schema, fields, validate

from repo_store.names import PARTY_CODE
from server.schemas import REVIEW_SLUG, FullMatch, StrictSchema, UtcDateTime, single_line

# An armored SSHSIG of a 16384-bit RSA key is under 3 kB; anything far larger is not one.
MAX_SIGNATURE_CHARS = 8192
ARMORED = re.compile(
    r"-----BEGIN SSH SIGNATURE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END SSH SIGNATURE-----\r?\n?"
)


class SigningRequestSchema(StrictSchema):
    id = fields.String(required=True, metadata={"description": "single use; 256 random bits"})
    payload = fields.String(
        required=True,
        metadata={
            "description": "the exact bytes to sign, as UTF-8 (git's commit text or the "
            "approval statement)"
        },
    )
    expires_at = UtcDateTime(required=True)
    tree = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "a commit's every file (path: blob id), to check its tree id"},
    )
    files = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "the text of each file the commit writes"},
    )


class DocumentRecipientsSchema(Schema):
    recipients = fields.List(fields.String(), required=True, metadata={"description": "age1…"})


class OfflineCopySchema(Schema):
    review = fields.String(required=True)
    recipients = fields.List(fields.String(), required=True, metadata={"description": "age1…"})
    stored = fields.Boolean(required=True)


class OfflineCopyQuerySchema(StrictSchema):
    review = fields.String(required=True, validate=FullMatch(REVIEW_SLUG))


class SignedAnswerSchema(StrictSchema):
    signature = fields.String(
        required=True,
        validate=[
            validate.Length(max=MAX_SIGNATURE_CHARS),
            FullMatch(ARMORED, error="signature must be one armored SSH signature"),
        ],
    )


class UserKeyCreateSchema(StrictSchema):
    # One OpenSSH public key line: type, base64, optional comment (keys/ssh_keys.py checks it).
    public_key = fields.String(required=True, validate=[validate.Length(min=1), single_line])
    # The party the key signs for; by default the first of yours whose members sign.
    party = fields.String(load_default=None, validate=FullMatch(PARTY_CODE))


class UserKeySchema(Schema):
    fingerprint = fields.String(required=True, metadata={"description": "SHA256:… as ssh-keygen"})
    type = fields.String(required=True, attribute="key_type")
    public_key = fields.String(required=True, metadata={"description": "type and base64"})
    comment = fields.String(required=True)
    party = fields.String(required=True, attribute="party.code")
    role = fields.String(required=True)
    valid_after = UtcDateTime(required=True)
    valid_before = UtcDateTime(required=True, allow_none=True)


class PartyKeySchema(UserKeySchema):
    owner = fields.String(required=True, attribute="user.email")


class UserKeyListSchema(Schema):
    keys = fields.List(fields.Nested(UserKeySchema), required=True)


class PartyKeyListSchema(Schema):
    keys = fields.List(fields.Nested(PartyKeySchema), required=True)
