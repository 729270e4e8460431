"""Every error as application/problem+json (RFC 9457); no stack trace ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from repo_store.attachments import AttachmentConflict, InvalidAttachment
from repo_store.blobs import BlobTooLarge
from repo_store.errors import (
    DocumentExists,
    DocumentNotFound,
    RepositoryNotFound,
    StaleVersion,
    UnknownVersion,
)
from repo_store.names import InvalidName

log = logging.getLogger(__name__)
PROBLEM_TYPE = "https://peerlex.org/problems/"


class Problem(HTTPException):
    """An HTTP error with a problem type and extra members (e.g. the current head)."""

    def __init__(self, status: int, detail: str, kind: str | None = None, **extra: Any) -> None:
        super().__init__(description=detail)
        self.code = status
        self.kind = kind
        self.extra = extra


def problem_response(status: int, title: str, detail: str, **extra: Any) -> Response:
    kind = extra.pop("kind", None)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    return response


def _from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    title = error.name
    detail = error.description or title
    extra: dict[str, Any] = {}
    if isinstance(error, Problem):
        extra = {"kind": error.kind, **error.extra}
    data = getattr(error, "data", None)
    if isinstance(data, dict) and "messages" in data:
        # webargs puts field errors under messages[location]; flatten to {field: [msg]}.
        messages = data["messages"]
        errors: dict[str, Any] = {}
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                errors.update(location_errors)
        extra["errors"] = errors
        detail = "the request does not match the expected fields"
    response = problem_response(status, title, detail, **extra)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="peerlex"'
    for key, value in error.get_headers():
        if key.lower() in ("allow", "retry-after"):
            response.headers[key] = value
    return response


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with problem+json errors."""

    def handle_http_exception(self, error: HTTPException) -> Response:
        return _from_http_exception(error)


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        return _from_http_exception(error)

    @app.errorhandler(InvalidName)
    def _invalid_name(error: InvalidName) -> Response:
        return problem_response(400, "Bad Request", str(error), kind="invalid-name")

    @app.errorhandler(RepositoryNotFound)
    @app.errorhandler(DocumentNotFound)
    def _not_found(error: Exception) -> Response:
        return problem_response(404, "Not Found", "no such document or version")

    @app.errorhandler(UnknownVersion)
    def _unknown_version(error: UnknownVersion) -> Response:
        return problem_response(404, "Not Found", "no such version of this document")

    @app.errorhandler(StaleVersion)
    def _stale(error: StaleVersion) -> Response:
        return problem_response(
            409,
            "Conflict",
            "the document changed since the version you edited from",
            kind="stale-version",
            head=error.head,
        )

    @app.errorhandler(DocumentExists)
    def _exists(error: DocumentExists) -> Response:
        return problem_response(
            409,
            "Conflict",
            "the document exists: send the version you edited from as base",
            kind="document-exists",
            head=error.head,
        )

    @app.errorhandler(BlobTooLarge)
    def _too_large(error: BlobTooLarge) -> Response:
        return problem_response(
            413, "Content Too Large", f"the file is larger than {error.max_bytes} bytes"
        )

    @app.errorhandler(InvalidAttachment)
    def _invalid_attachment(error: InvalidAttachment) -> Response:
        return problem_response(422, "Unprocessable Content", str(error), kind="invalid-attachment")

    @app.errorhandler(AttachmentConflict)
    def _attachment_conflict(error: AttachmentConflict) -> Response:
        return problem_response(
            409, "Conflict", "the attachment changed meanwhile; try again", kind="conflict"
        )

    @app.errorhandler(RecursionError)
    def _too_deep(error: RecursionError) -> Response:
        return problem_response(400, "Bad Request", "the JSON body is nested too deeply")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return _from_http_exception(InternalServerError())
