"""Strict patterns for everything that becomes a path, a ref or an argument to git."""

from __future__ import annotations

import re

PARTY_CODE = re.compile(r"[A-Z][A-Z0-9]{1,15}")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
SHA = re.compile(r"[0-9a-f]{40}")


class InvalidName(ValueError):
    """A party code, slug or commit id does not match its pattern."""


def check_party(code: str) -> str:
    """Return code if it is a valid party code (upper-case letters and digits)."""
    if not PARTY_CODE.fullmatch(code):
        raise InvalidName(f"invalid party code {code!r}")
    return code


def check_slug(slug: str) -> str:
    """Return slug if it is a valid document slug (never a path, never an option)."""
    if not SLUG.fullmatch(slug):
        raise InvalidName(f"invalid document slug {slug!r}")
    return slug


def check_sha(sha: str) -> str:
    """Return sha if it is a full lower-case hexadecimal commit id."""
    if not SHA.fullmatch(sha):
        raise InvalidName(f"invalid commit id {sha!r}")
    return sha
