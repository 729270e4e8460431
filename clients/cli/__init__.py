"""`peerlex`: the command line for experts and organisers (HTTP client and offline checks).

`main` is the command group; importing this package registers every command family on it.
"""

from __future__ import annotations

from clients.cli import (
    approvals,
    attachments,
    documents,
    invitations,
    keys,
    mfa,
    offline,
    reviews,
    sessions,
)
from clients.cli.app import main

__all__ = [
    "approvals",
    "attachments",
    "documents",
    "invitations",
    "keys",
    "main",
    "mfa",
    "offline",
    "reviews",
    "sessions",
]
