"""`peerlex`: the command line for experts and organisers (HTTP client and offline checks).

`main` is the command group; importing this package registers every command family on it.
"""

from __future__ import annotations

from clients.cli import approvals, attachments, documents, keys, offline, reviews, sessions
from clients.cli.app import main
from clients.cli.exits import (
    EXIT_AUTH,
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_SIGNERS_UNCHECKED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_AUTH",
    "EXIT_CONFLICT",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_SIGNERS_UNCHECKED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "approvals",
    "attachments",
    "documents",
    "keys",
    "main",
    "offline",
    "reviews",
    "sessions",
]
