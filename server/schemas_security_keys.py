"""Schemas of security keys (WebAuthn): the options a browser is given, and its answers."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields

from server.schemas import StrictSchema
from server.schemas_mfa import TotpEnrolSchema

# A credential with attestation "none" is well under 2 KiB; this leaves room for any extension.
MAX_CREDENTIAL_BYTES = 64 * 1024


def _small(value: dict[str, Any]) -> None:
    if len(json.dumps(value)) > MAX_CREDENTIAL_BYTES:
        raise ValidationError(f"is longer than {MAX_CREDENTIAL_BYTES} bytes")


def _credential(description: str) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(),
        required=True,
        validate=_small,
        metadata={"description": description + "; binary members base64url (as toJSON())"},
    )


class PublicKeyOptionsSchema(Schema):
    public_key = fields.Dict(
        required=True,
        data_key="publicKey",
        metadata={
            "description": "the options for navigator.credentials.create() or .get(), binary "
            "members base64url; the challenge is usable once, for five minutes"
        },
    )


class SecurityKeyEnrolSchema(TotpEnrolSchema):
    """A label as an authenticator app's, and the credential."""

    credential = _credential("what navigator.credentials.create() answered")


class SecurityKeyEnrolledSchema(Schema):
    id = fields.Integer(required=True)
    recovery_codes = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "with a first factor: ten, each usable once, shown once"},
    )


class AssertionSchema(StrictSchema):
    credential = _credential("what navigator.credentials.get() answered")


class SignedInSchema(Schema):
    next = fields.String(required=True, metadata={"description": "the page to go to now"})
