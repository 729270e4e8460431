"""The web pages' one blueprint: its headers, the signed-in user, safe redirects, and
error pages with the statuses the API gives (server/errors.py)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from server.errors import STORAGE_ERRORS, domain_error, retry_headers, status_of
from server.models import User
from server.services.errors import DomainError

log = logging.getLogger(__name__)

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_CSP
    if request.endpoint != "web.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def signed_in_user() -> User:
    user: User = current_user._get_current_object()
    return user


def safe_next(value: str | None) -> str | None:
    """A path on this site to go back to, or None for anything that could lead elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if any(c in value for c in "\\\r\n\t") or not value.isprintable():
        return None
    parts = urlsplit(value)
    return None if parts.scheme or parts.netloc else value


def back_to(default: str) -> str:
    return safe_next(request.form.get("next")) or default


# Errors: the same exceptions the API answers as problem+json, shown here as pages.


def error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    titles = {
        400: gettext("The request was not understood"),
        403: gettext("You may not do that"),
        404: gettext("Not found, or you may not see it"),
        409: gettext("That cannot be done now"),
        413: gettext("Too large"),
        422: gettext("That cannot be done as asked"),
        503: gettext("The server is busy"),
    }
    title = titles.get(status, gettext("Something went wrong"))
    return render_template("web/error.html", title=title, status=status, detail=detail), status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status == 401:
        target = here_for_sign_in()
        return redirect(url_for("web.sign_in", next=target) if target else url_for("web.sign_in"))
    detail = error.description if status < 500 or status == 503 else None
    if status == 413:
        limit = request.max_content_length
        detail = gettext(
            "The request is larger than %(n)s bytes, the most this server takes. Nothing was "
            "written.",
            n=limit,
        )
    page, status = error_page(status, detail)
    response = make_response(page, status)
    for key, value in error.get_headers():
        if key.lower() == "retry-after":
            response.headers[key] = value
    return response


def here_for_sign_in() -> str | None:
    if request.method != "GET":
        return None
    query = request.query_string.decode("ascii", "replace")
    return safe_next(request.path + ("?" + query if query else ""))


def _domain_error(error: Exception) -> Any:
    """A refusal of the domain, with the status the API gives it (server/errors.py)."""
    found = domain_error(error)
    status = status_of(found)
    page, status = error_page(status, found.detail if status < 500 or status == 503 else None)
    response = make_response(page, status)
    response.headers.update(retry_headers(found))
    return response


_REFUSALS: list[type[Exception]] = [DomainError, *STORAGE_ERRORS]
for _kind in _REFUSALS:
    bp.register_error_handler(_kind, _domain_error)


@bp.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> Any:
    return error_page(400, messages(error))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Any:
    log.exception("unhandled error on a web page")
    return error_page(500)


def messages(error: ValidationError) -> str:
    found = error.messages if isinstance(error.messages, dict) else {"": error.messages}
    return "; ".join(
        f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
        for name, msgs in found.items()
    )
