"""What a service refuses with: errors of the domain, each with the problem type it is known by.

Services know nothing of HTTP. server/errors.py holds the one table that turns each class into
a status, for the API's problem documents and the web pages alike.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal: a detail for people, a problem type slug (docs), and extra named values."""

    def __init__(self, detail: str, kind: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.kind = kind
        self.extra = extra


class Malformed(DomainError):
    """Input that breaks a strict pattern (a party code, slug or commit id): it names nothing."""


class NotFound(DomainError):
    """No such thing, or the user may not see it (the two are never told apart)."""


class Forbidden(DomainError):
    """The user sees the thing but may not do this to it."""


class Conflict(DomainError):
    """Not now: the thing is in another state than the action needs (stale base, wrong state)."""


class Gone(DomainError):
    """It was there and no longer is, for good (an expired signing request)."""


class Invalid(DomainError):
    """Well-formed but cannot be done as asked (an unknown party, a quote not in the text)."""


class TooLarge(DomainError):
    """More than a document or a file may be."""


class Unsupported(DomainError):
    """A body of a kind this route does not take (not a Word document, a macro-enabled one)."""


class Busy(DomainError):
    """Could be done, only not now: the caller should try again after retry_after seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, "busy", retry_after=retry_after)
        self.retry_after = retry_after


class Corrupt(DomainError):
    """Stored data fails its own checks (a damaged blob, an audit log that does not verify)."""
