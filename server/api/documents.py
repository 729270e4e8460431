"""Documents of a party: list, read (optionally at a version), write a new version, versions."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, BinaryIO, cast

from flask import Response, jsonify, request, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE

from server.api.word import DOCX_BODY_DOC, diff_file, takes_docx, version_docx
from server.models import OfflineRecipient
from server.payloads import (
    attachment_payload,
    document_payload,
    signing_request_payload,
    version_payload,
)
from server.redline.render import STYLE
from server.schemas import (
    AttachmentSchema,
    AttachmentUploadQuerySchema,
    DiffPageSchema,
    DocumentPutSchema,
    DocumentSchema,
    DocumentSummarySchema,
    RecipientCreateSchema,
    RecipientSchema,
    VersionSchema,
    version_from_header,
)
from server.schemas_keys import SigningRequestSchema
from server.schemas_word import (
    DOCX_MEDIA_TYPE,
    NOT_PLACED_HEADER,
    PDF_MEDIA_TYPE,
    DiffFileQuerySchema,
    DocumentQuerySchema,
)
from server.services import attachments, client_attachments, diffs, documents, recipients
from server.services.context import services
from server.services.limits import is_expensive, work_gate

# The redline's only style element, allowed by its hash: the page runs no script at all.
REDLINE_CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    + "'; frame-ancestors 'none'"
)

blp = Blueprint(
    "documents", __name__, url_prefix="/api/v1/parties", description="Documents and versions"
)


@blp.route("/<party>/documents")
@blp.response(200, DocumentSummarySchema(many=True))
def list_documents(party: str) -> list[dict[str, Any]]:
    """The party's documents, each at its current version."""
    return [
        document_payload(d, content=False) for d in documents.list_documents(current_user, party)
    ]


@blp.route("/<party>/documents/<slug>", methods=["GET"])
@blp.arguments(DocumentQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
@blp.response(200, DocumentSchema)
@blp.alt_response(200, content_type=DOCX_MEDIA_TYPE, description="format=docx: the version")
@blp.alt_response(503, description="The worker is busy with other large documents")
def get_document(
    party: str, slug: str, version: str | None, format: str = "json"
) -> dict[str, Any] | Response:
    """A document with its text, at a version (default: the newest one you may see);
    `format=docx` answers that version as a Word document instead."""
    if format == "docx":
        return version_docx(party, slug, version)
    found = document_payload(
        documents.get_document(current_user, party, slug, version), content=True
    )
    if not is_expensive(found["content"]):
        return found
    # Encoding a large text is the costly part: it is done here, holding a slot.
    with work_gate().expensive("documents"):
        return jsonify(DocumentSchema().dump(found))


@blp.route("/<party>/documents/<slug>", methods=["PUT"])
@takes_docx
@blp.doc(**DOCX_BODY_DOC)
@blp.arguments(DocumentPutSchema)
@blp.response(200, DocumentSummarySchema)
@blp.alt_response(201, schema=DocumentSummarySchema, description="Created")
@blp.alt_response(409, description="The base is stale, or the document exists")
@blp.alt_response(413, description="A .docx larger than PEERLEX_MAX_DOCX_BYTES, or a part of it")
@blp.alt_response(415, description="A body that is not a Word document peerlex can read")
def put_document(data: dict[str, Any], party: str, slug: str) -> tuple[dict[str, Any], int]:
    """Create a document (no base) or save a new version of it (base: the version edited from).

    `If-Match` may carry the base instead of the body. With `Content-Type:
    application/vnd.openxmlformats-officedocument.wordprocessingml.document` the body is a
    Word draft instead: converted to the stored text, kept as an encrypted attachment of the
    version, with the message and metadata in the query (a draft with pending tracked changes
    is refused, 422).
    """
    if_match = request.headers.get("If-Match")
    if data.get("base") is None and if_match:
        data["base"] = version_from_header(if_match)
    saved = documents.save_document(current_user, party, slug, data)
    return document_payload(saved.document, content=False), 201 if saved.created else 200


@blp.route("/<party>/documents/<slug>/versions")
@blp.response(200, VersionSchema(many=True))
def versions(party: str, slug: str) -> list[dict[str, Any]]:
    """Every version of the document, newest first, with its signature status."""
    return [version_payload(v) for v in documents.document_versions(current_user, party, slug)]


@blp.route("/<party>/documents/<slug>/diff")
@blp.arguments(DiffFileQuerySchema, location="query", unknown=RAISE)
@blp.response(200, DiffPageSchema, content_type="application/json")
@blp.alt_response(200, content_type="text/html", description="format=html: a redline page")
@blp.alt_response(200, content_type="text/x-diff", description="format=unified: git diff")
@blp.alt_response(
    200,
    content_type=DOCX_MEDIA_TYPE,
    description=f"format=docx: tracked changes ({NOT_PLACED_HEADER}: comments not placed)",
)
@blp.alt_response(200, content_type=PDF_MEDIA_TYPE, description="format=pdf: a printed redline")
@blp.alt_response(404, description="No such page (or version)")
@blp.alt_response(422, description="A version has more blocks than a document may have")
@blp.alt_response(503, description="The worker is busy with other large comparisons")
def diff(query: dict[str, Any], party: str, slug: str) -> Response:
    """What changed between two versions: structural word-level JSON, git's diff, or a redline.

    `to` defaults to the newest version you may see, `from` to the one before it. JSON and the
    redline come one page at a time (`page`, from 1; `Link` names the next and previous).
    """
    fmt = query["format"]
    if fmt in ("docx", "pdf") or query.get("review") is not None:
        return diff_file(query, party, slug)
    found = diffs.diff_page(
        current_user, party, slug, query["from_"], query["to"], fmt, query["page"]
    )
    if fmt == "unified":
        return Response(found.body, mimetype="text/x-diff")
    if fmt == "html":
        response = Response(found.body, mimetype="text/html")
        response.headers["Content-Security-Policy"] = REDLINE_CSP
    else:
        response = jsonify(DiffPageSchema().dump(found))
    links = []
    if found.page > 1:
        links.append(f'<?{_page_query(found, found.page - 1)}>; rel="prev"')
    if found.page < found.pages:
        links.append(f'<?{_page_query(found, found.page + 1)}>; rel="next"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _page_query(found: diffs.DiffPage, page: int) -> str:
    parts = [f"from={found.old}"] if found.old else []
    return "&".join([*parts, f"to={found.new}", f"format={found.fmt}", f"page={page}"])


@blp.route("/<party>/recipients", methods=["POST"])
@blp.arguments(RecipientCreateSchema)
@blp.response(201, RecipientSchema)
def add_recipient(data: dict[str, Any], party: str) -> OfflineRecipient:
    """Register an offline age recipient of your organisation (organisers) or of your
    self-custody State (experts and heads)."""
    return recipients.add_recipient(current_user, party, data)


@blp.route("/<party>/recipients", methods=["GET"])
@blp.response(200, RecipientSchema(many=True))
def list_recipients(party: str) -> list[OfflineRecipient]:
    """Your organisation's or self-custody State's offline age recipients."""
    return recipients.list_recipients(current_user, party)


@blp.route("/<party>/documents/<slug>/attachments", methods=["POST"])
@blp.arguments(AttachmentUploadQuerySchema, location="query", unknown=RAISE)
@blp.response(201, AttachmentSchema)
@blp.alt_response(
    202, schema=SigningRequestSchema, description="A State that holds its own keys: sign it"
)
def upload_attachment(query: dict[str, Any], party: str, slug: str) -> Any:
    """Attach a file: the raw request body, streamed and encrypted as it arrives.

    `name` (query or `X-File-Name`) is the file name, `Content-Type` its media type, `base`
    (query or `If-Match`) the document version attached to. A State that holds its own keys
    sends the age file its delegate encrypted to the document's recipients instead, and gets
    a signing request for the commit that records it (answered at …/versions/requests/{id}).
    """
    # The blob store enforces the exact limit (413, nothing stored); werkzeug's own check is a
    # backstop one byte higher, since with a terminated input stream it refuses a body of
    # exactly its limit as soon as the reader looks for the end.
    request.max_content_length = services().config.max_attachment_bytes + 1
    name = query.get("name") or request.headers.get("X-File-Name") or "attachment"
    if_match = request.headers.get("If-Match")
    base = query.get("base") or (version_from_header(if_match) if if_match else None)
    if client_attachments.holds_own_keys(party):
        issued = client_attachments.upload_encrypted(
            current_user,
            party,
            slug,
            cast(BinaryIO, request.stream),
            name=name,
            # The body is ciphertext: the plaintext's media type travels beside it.
            media_type=request.headers.get("X-Media-Type"),
            base=base,
        )
        return jsonify(SigningRequestSchema().dump(signing_request_payload(issued))), 202
    record = attachments.upload(
        current_user,
        party,
        slug,
        cast(BinaryIO, request.stream),
        name=name,
        media_type=request.headers.get("Content-Type"),
        base=base,
    )
    return attachment_payload(party, slug, record)


@blp.route("/<party>/documents/<slug>/attachments", methods=["GET"])
@blp.response(200, AttachmentSchema(many=True))
def list_attachments(party: str, slug: str) -> list[dict[str, Any]]:
    """The document's attachments you may read."""
    found = attachments.list_for(current_user, party, slug)
    entitled = attachments.entitled_parties(party, slug)
    return [attachment_payload(party, slug, record, entitled) for record in found]


@blp.route("/<party>/documents/<slug>/attachments/<attachment_id>", methods=["GET"])
@blp.response(200, content_type="application/octet-stream")
def download_attachment(party: str, slug: str, attachment_id: str) -> Response:
    """The attachment, decrypted and streamed (each part sent only once it authenticates); for
    a State that holds its own keys, the stored age file (`X-Peerlex-Encryption: age`)."""
    found = attachments.open_download(current_user, party, slug, attachment_id)
    name, media_type = found.record.name, found.record.media_type
    if found.sealed:
        name, media_type = f"{name}.age", "application/octet-stream"
    response = Response(stream_with_context(found.chunks), mimetype=media_type)
    response.headers["Content-Disposition"] = attachments.content_disposition(name)
    response.headers["Content-Length"] = str(found.size)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if found.sealed:
        response.headers[attachments.ENCRYPTION_HEADER] = "age"
    return response
