"""Word in and out on the document routes: a .docx body on PUT, and format=docx|pdf downloads.

The routes are the documents blueprint's own (server/api/documents.py); this module holds what
they do when the body or the asked format is Word's or a PDF.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, BinaryIO, cast

from flask import Response, jsonify, request
from flask_login import current_user
from marshmallow import ValidationError

from server.errors import Problem
from server.payloads import document_payload
from server.schemas import DocumentSummarySchema, version_from_header
from server.schemas_word import (
    DOCX_MEDIA_TYPE,
    NOT_PLACED_HEADER,
    DocxImportQuerySchema,
)
from server.services import word_export, word_import

# The OpenAPI description of the second kind of body a document PUT takes.
DOCX_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "content": {
            DOCX_MEDIA_TYPE: {
                "schema": {"type": "string", "format": "binary"},
            }
        }
    },
    "parameters": [
        {
            "in": "query",
            "name": name,
            "required": False,
            "schema": {"type": "string"},
            "description": f"with a .docx body: {description}",
        }
        for name, description in (
            ("message", "the version's message (required then)"),
            ("title", "the title (default: the document's, or the .docx's)"),
            ("kind", "the kind of document"),
            ("language", "BCP 47 tag (default: the document's, or the .docx's)"),
            ("name", "the file name the kept original is stored under"),
        )
    ],
}


def takes_docx(json_view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a PUT whose body is a .docx to the Word import; any other to the JSON view."""

    @functools.wraps(json_view)
    def view(*args: Any, **kwargs: Any) -> Any:
        if request.mimetype == DOCX_MEDIA_TYPE:
            return put_docx(kwargs["party"], kwargs["slug"])
        return json_view(*args, **kwargs)

    return view


def _query(schema: DocxImportQuerySchema) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise Problem(422, "invalid query", "validation", errors={"query": exc.messages}) from exc
    return loaded


def put_docx(party: str, slug: str) -> Response:
    """Import the raw .docx body as a version, answering as a text PUT does."""
    query = _query(DocxImportQuerySchema())
    if_match = request.headers.get("If-Match")
    if query.get("base") is None and if_match:
        query["base"] = version_from_header(if_match)
    if query.get("name") is None and request.headers.get("X-File-Name"):
        query["name"] = request.headers["X-File-Name"]
    # A body announced too large is refused before a byte of it is read; the service enforces
    # the exact limit on what arrives, and werkzeug's own check is the backstop.
    limit = word_import.max_docx_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise word_import.too_large(limit)
    request.max_content_length = limit + 1
    saved = word_import.import_docx(
        current_user, party, slug, cast(BinaryIO, request.stream), query
    )
    body = DocumentSummarySchema().dump(document_payload(saved.document, content=False))
    response = jsonify(body)
    response.status_code = 201 if saved.created else 200
    return response


def file_response(found: word_export.ExportedFile) -> Response:
    """A generated file as a download: its type, its name, nothing the browser may run."""
    response = Response(found.data, mimetype=found.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    response.headers["Content-Length"] = str(len(found.data))
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if found.not_placed is not None:
        response.headers[NOT_PLACED_HEADER] = str(found.not_placed)
    return response


def version_docx(party: str, slug: str, version: str | None) -> Response:
    return file_response(word_export.version_docx(current_user, party, slug, version))


def diff_file(query: dict[str, Any], party: str, slug: str) -> Response:
    return file_response(
        word_export.diff_file(
            current_user,
            party,
            slug,
            query["from_"],
            query["to"],
            query["format"],
            query.get("review"),
        )
    )
