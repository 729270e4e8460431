"""Schemas of second factors: enrolling, confirming, listing and removing them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.schemas import StrictSchema, UtcDateTime, single_line

MAX_CODE = 64


class TotpEnrolSchema(StrictSchema):
    label = fields.String(
        load_default="",
        validate=[validate.Length(max=200), single_line],
        metadata={"description": "a name for the authenticator, e.g. 'phone'"},
    )


class TotpEnrolmentSchema(Schema):
    id = fields.Integer(required=True)
    secret = fields.String(required=True, metadata={"description": "base32; shown once"})
    otpauth_uri = fields.String(required=True, metadata={"description": "for a QR code"})


class CodeSchema(StrictSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_CODE),
        metadata={
            "description": "a code of your authenticator app (or, to remove, a recovery code)"
        },
    )


class RecoveryCodesSchema(Schema):
    recovery_codes = fields.List(
        fields.String(), required=True, metadata={"description": "each usable once; shown once"}
    )


class FactorSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    label = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    confirmed_at = UtcDateTime(allow_none=True, metadata={"description": "null while pending"})


class FactorListSchema(Schema):
    factors = fields.List(fields.Nested(FactorSchema), required=True)
    recovery_codes_left = fields.Integer(required=True)
