"""Writes made on the delegate's machine: signing requests for versions and approvals, and the
attachments a State that holds its own keys encrypts, re-wraps and copies for the bundle."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE

from server.payloads import approval_payload, document_payload, signing_request_payload
from server.schemas import (
    ApprovalCreateSchema,
    ApprovalSchema,
    DocumentPutSchema,
    DocumentSummarySchema,
)
from server.schemas_keys import (
    DocumentRecipientsSchema,
    OfflineCopyQuerySchema,
    OfflineCopySchema,
    SignedAnswerSchema,
    SigningRequestSchema,
)
from server.services import client_attachments, signed_writes
from server.services.context import services

blp = Blueprint(
    "signing", __name__, url_prefix="/api/v1", description="Writes signed by the delegate"
)

VERSIONS = "/parties/<party>/documents/<slug>/versions/requests"
APPROVALS = "/reviews/<rid>/approvals/requests"


@blp.route(VERSIONS, methods=["POST"])
@blp.arguments(DocumentPutSchema)
@blp.response(201, SigningRequestSchema)
@blp.alt_response(409, description="The base is stale, the document exists, or nothing changes")
def request_version(data: dict[str, Any], party: str, slug: str) -> dict[str, Any]:
    """Build a new version's commit (same body and rules as PUT) for you to sign as git does."""
    return signing_request_payload(signed_writes.request_version(current_user, party, slug, data))


@blp.route(f"{VERSIONS}/<token>", methods=["POST"])
@blp.arguments(SignedAnswerSchema)
@blp.response(200, DocumentSummarySchema)
@blp.alt_response(201, schema=DocumentSummarySchema, description="Created")
@blp.alt_response(409, description="The document moved on since the request")
@blp.alt_response(410, description="The request expired")
def sign_version(
    data: dict[str, Any], party: str, slug: str, token: str
) -> tuple[dict[str, Any], int]:
    """Write the requested version with your signature over its payload (namespace git)."""
    saved = signed_writes.sign_version(current_user, party, slug, token, data["signature"])
    return document_payload(saved.document, content=False), 201 if saved.created else 200


@blp.route(APPROVALS, methods=["POST"])
@blp.arguments(ApprovalCreateSchema)
@blp.response(201, SigningRequestSchema)
def request_approval(data: dict[str, Any], rid: str) -> dict[str, Any]:
    """Build the statement approving a version (heads, agreement state) for you to sign."""
    return signing_request_payload(signed_writes.request_approval(current_user, rid, data))


@blp.route(f"{APPROVALS}/<token>", methods=["POST"])
@blp.arguments(SignedAnswerSchema)
@blp.response(201, ApprovalSchema)
@blp.alt_response(410, description="The request expired")
def sign_approval(data: dict[str, Any], rid: str, token: str) -> dict[str, Any]:
    """Record the requested approval with your signature (namespace peerlex-approval)."""
    return approval_payload(
        signed_writes.sign_approval(current_user, rid, token, data["signature"])
    )


@blp.route("/parties/<party>/documents/<slug>/recipients", methods=["GET"])
@blp.response(200, DocumentRecipientsSchema)
def document_recipients(party: str, slug: str) -> dict[str, Any]:
    """The age recipients your client encrypts this document's attachments to (its writers)."""
    return {"recipients": client_attachments.document_recipients(current_user, party, slug)}


@blp.route("/parties/<party>/documents/<slug>/attachments/<attachment_id>/rewrap", methods=["POST"])
@blp.response(202, SigningRequestSchema)
def rewrap_attachment(party: str, slug: str, attachment_id: str) -> dict[str, Any]:
    """Re-wrap an attachment for the document's recipients now (a State that holds its own
    keys): the body is the age file with its header made anew and its payload unchanged."""
    request.max_content_length = services().config.max_attachment_bytes + 64 * 1024 * 1024
    issued = client_attachments.rewrap_encrypted(
        current_user, party, slug, attachment_id, cast(BinaryIO, request.stream)
    )
    return signing_request_payload(issued)


OFFLINE_COPIES = "/parties/<party>/documents/<slug>/attachments/<attachment_id>/offline-copies"


@blp.route(OFFLINE_COPIES, methods=["GET"])
@blp.response(200, OfflineCopySchema(many=True))
def offline_copies(party: str, slug: str, attachment_id: str) -> list[dict[str, Any]]:
    """Each review's offline recipients the final bundle encrypts this attachment to, and
    whether its copy for them is stored (a State that holds its own keys makes them)."""
    return client_attachments.offline_copies(current_user, party, slug, attachment_id)


@blp.route(OFFLINE_COPIES, methods=["POST"])
@blp.arguments(OfflineCopyQuerySchema, location="query", unknown=RAISE)
@blp.response(201, OfflineCopySchema)
def store_offline_copy(query: dict[str, Any], party: str, slug: str, attachment_id: str) -> Any:
    """The attachment re-wrapped by its owner for a review's offline recipients (the body: the
    age file, its payload unchanged); the final bundle carries it."""
    request.max_content_length = services().config.max_attachment_bytes + 64 * 1024 * 1024
    stream = cast(BinaryIO, request.stream)
    return client_attachments.store_offline_copy(
        current_user, party, slug, attachment_id, query["review"], stream
    )
