"""Every error as application/problem+json (RFC 9457); no stack trace ever reaches a client.

STATUSES is the one table from the domain's errors to HTTP statuses: the API answers them as
problem documents and the web pages as error pages, with the same status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, json
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from repo_store.attachments import AttachmentConflict, InvalidAttachment
from repo_store.blobs import BlobTooLarge, NotAnAgeFile
from repo_store.errors import (
    DocumentExists,
    DocumentNotFound,
    RepositoryNotFound,
    StaleVersion,
    UnknownVersion,
)
from repo_store.names import InvalidName
from server.services.errors import (
    Busy,
    Conflict,
    Corrupt,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    Malformed,
    NotFound,
    TooLarge,
    Unsupported,
)

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


# The domain's errors and their statuses, for the API and the pages alike. A name that breaks
# the strict patterns (party code, slug, commit id) is bad input, a 400 that changes nothing
# (DESIGN.md §10), not an attempt on something hidden: a 404 would be audited as one.
STATUSES: dict[type[DomainError], int] = {
    Malformed: 400,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    Unsupported: 415,
    Invalid: 422,
    Corrupt: 500,
    Busy: 503,
}

# The storage layer's errors, each said as the domain error it is.
STORAGE_ERRORS: dict[type[Exception], Callable[[Any], DomainError]] = {
    InvalidName: lambda error: Malformed(str(error), "invalid-name"),
    RepositoryNotFound: lambda _error: NotFound("no such document or version"),
    DocumentNotFound: lambda _error: NotFound("no such document or version"),
    UnknownVersion: lambda _error: NotFound("no such version of this document"),
    StaleVersion: lambda error: Conflict(
        "the document changed since the version you edited from", "stale-version", head=error.head
    ),
    DocumentExists: lambda error: Conflict(
        "the document exists: send the version you edited from as base",
        "document-exists",
        head=error.head,
    ),
    BlobTooLarge: lambda error: TooLarge(f"the file is larger than {error.max_bytes} bytes"),
    InvalidAttachment: lambda error: Invalid(str(error), "invalid-attachment"),
    NotAnAgeFile: lambda error: Invalid(str(error), "not-an-age-file"),
    AttachmentConflict: lambda _error: Conflict(
        "the attachment changed meanwhile; try again", "conflict"
    ),
}
# RFC 9110's names where werkzeug still has the older ones.
TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def domain_error(error: Exception) -> DomainError:
    """The error as a domain error (a storage error translated; a domain error as it is)."""
    if isinstance(error, DomainError):
        return error
    for kind, translate in STORAGE_ERRORS.items():
        if isinstance(error, kind):
            return translate(error)
    raise TypeError(f"not a domain error: {type(error).__name__}")


def title_of(status: int) -> str:
    return TITLES.get(status) or HTTP_STATUS_CODES.get(status, "Error")


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUSES:
            return STATUSES[kind]
    return 500


def retry_headers(error: DomainError) -> dict[str, str]:
    return {"Retry-After": str(error.retry_after)} if isinstance(error, Busy) else {}


def domain_problem(error: Exception) -> Response:
    """A domain or storage error as a problem document, with the status STATUSES gives it."""
    found = domain_error(error)
    status = status_of(found)
    response = problem_response(
        status, title_of(status), found.detail, kind=found.kind, **found.extra
    )
    response.headers.update(retry_headers(found))
    return response


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        return _from_http_exception(error)

    handled: list[type[Exception]] = [DomainError, *STORAGE_ERRORS]
    for kind in handled:
        app.register_error_handler(kind, domain_problem)

    @app.errorhandler(RecursionError)
    def _too_deep(error: RecursionError) -> Response:
        return problem_response(400, "Bad Request", "the JSON body is nested too deeply")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return _from_http_exception(InternalServerError())
