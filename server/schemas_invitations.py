"""Schemas of invitations: the request that makes one, and the answers that show them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from repo_store.names import PARTY_CODE
from server.models import Role
from server.schemas import FullMatch, StrictSchema, UtcDateTime, single_line


class InvitationCreateSchema(StrictSchema):
    email = fields.Email(required=True, validate=[validate.Length(max=254), single_line])
    party = fields.String(required=True, validate=FullMatch(PARTY_CODE))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))


class InvitationSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    party = fields.String(required=True)
    role = fields.String(required=True)
    invited_by = fields.String(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    expires_at = UtcDateTime(required=True)


class InvitationCreatedSchema(InvitationSchema):
    url = fields.String(
        required=True,
        metadata={
            "description": "the one-time link, shown only now: pass it on to the invitee by "
            "your own channel; it works once, for 7 days"
        },
    )
    mailed = fields.Boolean(
        required=True,
        metadata={"description": "whether the link was also mailed (PEERLEX_SMTP_URL)"},
    )


class InvitationListSchema(Schema):
    invitations = fields.List(fields.Nested(InvitationSchema), required=True)
