"""The exit-code policy of `peerlex`: every error becomes one plain line and a code scripts test."""

from __future__ import annotations

import os
from typing import IO, Any

import click

from clients.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServerError,
    ServerUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from clients.profiles import DEFAULT_PROFILE, ProfileError
from clients.terminal import one_line

# Exit codes; docs/cli.md lists them for scripts.
EXIT_OK = 0
EXIT_FAILED = 1  # a verification failed, or any other error
EXIT_USAGE = 2  # click's own code for a bad command line
EXIT_AUTH = 3  # not logged in, session expired or revoked, wrong password, not allowed
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_UNREACHABLE = 6
EXIT_INVALID = 7
EXIT_SIGNERS_UNCHECKED = 8  # a bundle is consistent, but its keys were not a trusted list

# Problem types of refusals that a second factor ends: none yet, or none fresh enough.
ENROLMENT_REQUIRED = "mfa-enrolment-required"
STEP_UP_REQUIRED = "mfa-step-up-required"


class Failure(click.ClickException):
    """An error for the user: one line on stderr, and an exit code from the table above."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        # Server answers end up in these messages: shown escaped, they cannot act on a terminal.
        super().__init__(one_line(" ".join(message.split())))
        # click declares exit_code on the class; each failure carries its own.
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"peerlex: error: {self.format_message()}", err=True)


def login_hint(profile: str) -> str:
    """The `peerlex` words that act as this profile (none for the default one)."""
    return "" if profile == DEFAULT_PROFILE else f"--profile {profile} "


def failure_for(exc: ApiError, profile: str) -> Failure:
    """Say in one line what went wrong, with the exit code scripts can test."""
    if isinstance(exc, ServerUnavailable):
        return Failure(exc.detail, EXIT_UNREACHABLE)
    if isinstance(exc, Unauthorized):
        return Failure(
            f"the server did not accept the session of profile {profile} (expired, revoked or "
            f"unknown); log in again with: peerlex {login_hint(profile)}login --email EMAIL",
            EXIT_AUTH,
        )
    if isinstance(exc, TooManyRequests):
        wait = f" in {exc.retry_after} s" if exc.retry_after else " later"
        return Failure(f"refused for now: {exc.detail.split(';')[0]}; try again{wait}", EXIT_AUTH)
    if isinstance(exc, Forbidden):
        if exc.kind == ENROLMENT_REQUIRED:
            return Failure(
                "your role needs a second factor: run `peerlex "
                f"{login_hint(profile)}mfa enrol` (an authenticator app's codes)",
                EXIT_AUTH,
            )
        if exc.kind == STEP_UP_REQUIRED:
            return Failure(
                f"a fresh second factor is needed: {exc.detail}; give a new code with --code, "
                f"or log in again with: peerlex {login_hint(profile)}login --email EMAIL",
                EXIT_AUTH,
            )
        return Failure(f"not allowed: {exc.detail}", EXIT_AUTH)
    if isinstance(exc, NotFound):
        return Failure(f"not found: {exc.detail}", EXIT_NOT_FOUND)
    if isinstance(exc, Conflict):
        message = f"conflict: {exc.detail}"
        if exc.head:
            message += f" (current version {exc.head})"
        if exc.missing:
            waiting = ", ".join(f"{m['party']}/{m['slug']}" for m in exc.missing)
            message += f"; waiting for approval of: {waiting}"
        return Failure(message, EXIT_CONFLICT)
    if isinstance(exc, ValidationFailed | BadRequest | PayloadTooLarge):
        message = f"invalid input: {exc.detail}"
        if isinstance(exc, ValidationFailed) and exc.errors:
            fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(exc.errors.items()))
            message += f" ({fields})"
        return Failure(message, EXIT_INVALID)
    if isinstance(exc, ServerError):
        return Failure(f"the server failed ({exc.status} {exc.title}): {exc.detail}")
    return Failure(f"{exc.title}: {exc.detail}")


def failure_of(exc: Exception, profile: str) -> Failure | None:
    """The failure any error of a command ends in; None to let it through (PEERLEX_DEBUG)."""
    if isinstance(exc, ApiError):
        return failure_for(exc, profile)
    if isinstance(exc, ProfileError):
        return Failure(str(exc))
    if isinstance(exc, UnicodeDecodeError):
        return Failure(f"not UTF-8 text: {exc.reason}", EXIT_INVALID)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return Failure(f"{where}{exc.strerror or exc}")
    if os.environ.get("PEERLEX_DEBUG"):
        return None
    return Failure(f"unexpected error ({type(exc).__name__}): {exc}")
