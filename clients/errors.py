"""Typed errors for what a peerlex server answers (problem+json) or fails to answer."""

from __future__ import annotations

from typing import Any

from clients.terminal import one_line


class ApiError(Exception):
    """The server refused a request, or could not be asked; carries its status, title, detail."""

    def __init__(
        self,
        status: int | None,
        title: str,
        detail: str,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.problem: dict[str, Any] = dict(problem or {})

    @property
    def kind(self) -> str | None:
        """The last part of the problem type, e.g. `stale-version`, if the server named one."""
        value = self.problem.get("type")
        if not isinstance(value, str) or value == "about:blank":
            return None
        return value.rstrip("/").rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.detail


class BadRequest(ApiError):
    """400: the request could not be understood (a bad name, a malformed body)."""


class Unauthorized(ApiError):
    """401: wrong credentials, or a missing, expired or revoked token."""


class Forbidden(ApiError):
    """403: the resource is visible to you but the action is not allowed."""


class NotFound(ApiError):
    """404: no such resource, or you may not see it."""


class Conflict(ApiError):
    """409: the request clashes with the current state; `head` is the current version if known."""

    @property
    def head(self) -> str | None:
        value = self.problem.get("head")
        return value if isinstance(value, str) else None

    @property
    def missing(self) -> list[dict[str, str]]:
        value = self.problem.get("missing")
        return list(value) if isinstance(value, list) else []


class PayloadTooLarge(ApiError):
    """413: the body is larger than the server accepts."""


class ValidationFailed(ApiError):
    """422 (or 400 with field errors): the input was refused; `errors` maps fields to messages."""

    @property
    def errors(self) -> dict[str, list[str]]:
        value = self.problem.get("errors")
        if not isinstance(value, dict):
            return {}
        return {
            str(field): [str(m) for m in messages]
            if isinstance(messages, list)
            else [str(messages)]
            for field, messages in value.items()
        }


class TooManyRequests(ApiError):
    """429: too many attempts (e.g. failed sign-ins); `retry_after` says how long to wait."""

    @property
    def retry_after(self) -> int | None:
        value = self.problem.get("retry_after")
        return value if isinstance(value, int) else None


class ServerError(ApiError):
    """5xx: the server failed while handling the request."""


class ServerUnavailable(ApiError):
    """The server could not be reached, or said it is unavailable (502, 503, 504)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: TooManyRequests,
    502: ServerUnavailable,
    503: ServerUnavailable,
    504: ServerUnavailable,
}


def error_for(
    status: int, problem: dict[str, Any] | None, reason: str = "", retry_after: str | None = None
) -> ApiError:
    """The typed error for an HTTP error status and its problem+json body (if any).

    Its title and detail are one line each, with any control or bidi character escaped: they
    are meant to be shown, and a server must not be able to write to a terminal through them.
    """
    problem = dict(problem or {})
    if retry_after is not None and retry_after.strip().isdigit():
        problem.setdefault("retry_after", int(retry_after))
    title = one_line(str(problem.get("title") or reason or f"HTTP {status}"))
    detail = one_line(str(problem.get("detail") or title))
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError
    if cls is BadRequest and isinstance(problem.get("errors"), dict):
        cls = ValidationFailed
    return cls(status, title, detail, problem)
