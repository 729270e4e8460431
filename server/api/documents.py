"""Documents of a party: list, read (optionally at a version), write a new version, versions."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE

from server.schemas import (
    DocumentPutSchema,
    DocumentSchema,
    DocumentSummarySchema,
    VersionQuerySchema,
    VersionSchema,
    version_from_header,
)
from server.services import documents

blp = Blueprint(
    "documents", __name__, url_prefix="/api/v1/parties", description="Documents and versions"
)


@blp.route("/<party>/documents")
@blp.response(200, DocumentSummarySchema(many=True))
def list_documents(party: str) -> list[dict[str, Any]]:
    """The party's documents, each at its current version."""
    return documents.list_documents(current_user, party)


@blp.route("/<party>/documents/<slug>", methods=["GET"])
@blp.arguments(VersionQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, DocumentSchema)
def get_document(party: str, slug: str, version: str | None) -> dict[str, Any]:
    """A document with its text, at a version (default: the newest one you may see)."""
    return documents.get_document(current_user, party, slug, version)


@blp.route("/<party>/documents/<slug>", methods=["PUT"])
@blp.arguments(DocumentPutSchema)
@blp.response(200, DocumentSummarySchema)
@blp.alt_response(201, schema=DocumentSummarySchema, description="Created")
@blp.alt_response(409, description="The base is stale, or the document exists")
def put_document(data: dict[str, Any], party: str, slug: str) -> tuple[dict[str, Any], int]:
    """Create a document (no base) or save a new version of it (base: the version edited from).

    `If-Match` may carry the base instead of the body.
    """
    if_match = request.headers.get("If-Match")
    if data.get("base") is None and if_match:
        data["base"] = version_from_header(if_match)
    saved = documents.save_document(current_user, party, slug, data)
    return saved.payload, 201 if saved.created else 200


@blp.route("/<party>/documents/<slug>/versions")
@blp.response(200, VersionSchema(many=True))
def versions(party: str, slug: str) -> list[dict[str, Any]]:
    """Every version of the document, newest first, with its signature status."""
    return documents.document_versions(current_user, party, slug)
