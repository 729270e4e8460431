"""The final bundle's signed parts: the SHA256SUMS file, its signature, the namespaces.

Shared by the server that builds a bundle and the offline verifier (docs/bundle.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

SUMS = "SHA256SUMS"
SUMS_SIGNATURE = "SHA256SUMS.sig"
MANIFEST = "manifest.json"
ALLOWED_SIGNERS = "allowed_signers"
BUNDLE_FORMAT = "peerlex-bundle/v2"
APPROVAL_TYPE = "peerlex-approval/v1"
# Each party's approved commits: a shallow bare repository, repos/<PARTY>.git/ (docs/bundle.md).
APPROVED_REFS = "refs/peerlex/approved/"
REPOSITORY_CONFIG = b"[core]\n\trepositoryformatversion = 0\n\tbare = true\n"
# Paths inside a bundle: plain relative names, no "..", no absolute paths, no odd characters.
SAFE_PATH = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]*/)*[A-Za-z0-9][A-Za-z0-9._-]*")
_SUMS_LINE = re.compile(r"([0-9a-f]{64})  (.+)")


class BundleFormatError(ValueError):
    """A SHA256SUMS file that is not in the expected form."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sums_file(digests: Mapping[str, str]) -> bytes:
    """`sha256sum` output (path -> sha256 hex), sorted by path: what `sha256sum -c` reads."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(digests.items())).encode()


def parse_sums(data: bytes) -> dict[str, str]:
    """Path -> sha256 hex from a SHA256SUMS file; strict about its form."""
    sums: dict[str, str] = {}
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        match = _SUMS_LINE.fullmatch(line)
        if match is None or not SAFE_PATH.fullmatch(match.group(2)):
            raise BundleFormatError(f"{SUMS} line {number} is malformed")
        digest, path = match.groups()
        if path in sums:
            raise BundleFormatError(f"{SUMS} lists {path} twice")
        sums[path] = digest
    return sums
