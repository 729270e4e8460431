"""Invitations: invite a person to a party and role by a one-time link; list and revoke them."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from server import schemas_invitations as schemas
from server.services import invitations
from server.services.context import services

blp = Blueprint("invitations", __name__, url_prefix="/api/v1", description="Invitations")


def site_url() -> str:
    """The address links name: PEERLEX_PUBLIC_URL, else the one this request came to."""
    return services().config.public_url or request.host_url


@blp.route("/invitations", methods=["POST"])
@blp.arguments(schemas.InvitationCreateSchema)
@blp.response(201, schemas.InvitationCreatedSchema)
@blp.alt_response(403, description="Not an administrator, or beyond an organiser's reach")
@blp.alt_response(409, description="The email has an account or a pending invitation")
def create_invitation(data: dict[str, Any]) -> dict[str, Any]:
    """Invite a person: administrators to any party and role; organisers as expert or head of
    a State taking part in one of their open reviews. The link is in the answer, once."""
    issued = invitations.invite(
        current_user, data["email"], data["party"], data["role"], site_url()
    )
    payload = invitations.invitation_payload(issued.invitation)
    return {**payload, "url": issued.url, "mailed": issued.mailed}


@blp.route("/invitations", methods=["GET"])
@blp.response(200, schemas.InvitationListSchema)
def list_invitations() -> dict[str, Any]:
    """The pending invitations you see: all for an administrator, else the ones you made."""
    found = invitations.pending_invitations(current_user)
    return {"invitations": [invitations.invitation_payload(item) for item in found]}


@blp.route("/invitations/<int:invitation_id>", methods=["DELETE"])
@blp.response(200, schemas.InvitationSchema)
@blp.alt_response(409, description="The invitation was accepted or revoked already")
def revoke_invitation(invitation_id: int) -> dict[str, Any]:
    """Revoke an unused invitation: its link stops working at once."""
    return invitations.invitation_payload(invitations.revoke(current_user, invitation_id))
