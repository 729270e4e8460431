"""Word in and out over the API: push a .docx as a version, download a version as .docx and a
comparison as .docx or PDF, each checked (type, size, signature) before it is kept."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import cast
from urllib.parse import quote

import httpx

from clients.errors import ApiError, ServerUnavailable
from clients.models import DocumentSummary
from clients.transport import CHUNK, HttpSession, Progress, Query
from keys.files import replaced_whole

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MEDIA_TYPE = "application/pdf"
MEDIA_TYPES = {"docx": DOCX_MEDIA_TYPE, "pdf": PDF_MEDIA_TYPE}
# What each kind of file starts with: a zip's local header, a PDF's version line.
MAGIC = {"docx": b"PK\x03\x04", "pdf": b"%PDF-"}
NOT_PLACED_HEADER = "X-Peerlex-Comments-Not-Placed"
# A download larger than this is refused as it arrives (a redline of the largest law is far
# smaller); PEERLEX_MAX_DOWNLOAD_BYTES changes it.
DEFAULT_MAX_DOWNLOAD = 256 << 20


def max_download_bytes() -> int:
    value = os.environ.get("PEERLEX_MAX_DOWNLOAD_BYTES", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_DOWNLOAD


def is_docx(path: Path) -> bool:
    """Whether a file to push is a Word document: by its name, or by a zip's first bytes."""
    if path.suffix.lower() == ".docx":
        return True
    with path.open("rb") as handle:
        return handle.read(4) == MAGIC["docx"]


def _path(*parts: str) -> str:
    return "/" + "/".join(quote(part, safe="") for part in parts)


def _bad(detail: str) -> ApiError:
    return ApiError(200, "Bad Response", detail)


class WordTransfers(HttpSession):
    """The Word and PDF calls of the client (clients/client.py)."""

    def put_docx(
        self,
        party: str,
        slug: str,
        source: Path,
        message: str,
        *,
        base: str | None = None,
        title: str | None = None,
        kind: str | None = None,
        language: str | None = None,
    ) -> DocumentSummary:
        """Send a .docx as a new version (no base: a new document); the server converts it
        and keeps the file as an encrypted attachment of that version."""
        source = Path(source)
        query = {
            "message": message,
            "title": title,
            "kind": kind,
            "language": language,
            "name": source.name,
        }
        headers = {"Content-Type": DOCX_MEDIA_TYPE}
        if base is not None:
            headers["If-Match"] = f'"{base}"'
        data = source.read_bytes()
        answer = self._json(
            "PUT",
            _path("parties", party, "documents", slug),
            query=query,
            body=data,
            headers=headers,
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("version"), dict):
            raise _bad("the server's answer to the push is malformed")
        return cast(DocumentSummary, answer)

    def document_docx(self, party: str, slug: str, version: str | None, dest: Path) -> int:
        """Download a version as .docx into dest (whole or not at all); return its size."""
        path = _path("parties", party, "documents", slug)
        query = {"version": version, "format": "docx"}
        return self.download_checked(path, query, Path(dest), "docx")[0]

    def diff_file(
        self,
        party: str,
        slug: str,
        dest: Path,
        *,
        fmt: str,
        old: str | None = None,
        new: str | None = None,
        review: str | None = None,
    ) -> tuple[int, int | None]:
        """Download a comparison as .docx (tracked changes) or PDF into dest; return its size
        and, with a review, how many comments could not be set on their words."""
        path = _path("parties", party, "documents", slug, "diff")
        query = {"from": old, "to": new, "format": fmt, "review": review}
        size, headers = self.download_checked(path, query, Path(dest), fmt)
        not_placed = headers.get(NOT_PLACED_HEADER)
        if not_placed is None:
            return size, None
        if not re.fullmatch(r"[0-9]{1,9}", not_placed):
            raise _bad(f"the server's {NOT_PLACED_HEADER} is not a count")
        return size, int(not_placed)

    def download_checked(
        self,
        path: str,
        query: Query,
        dest: Path,
        kind: str,
        progress: Progress | None = None,
    ) -> tuple[int, Mapping[str, str]]:
        """Stream a file of a known kind into dest: its type must be the one asked for, its
        size within bounds and as announced, its first bytes those of its kind; else nothing
        is written."""
        limit = max_download_bytes()
        with self._exchange("GET", path, query=query, headers={"Accept": "*/*"}) as response:
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if media_type != MEDIA_TYPES[kind]:
                raise _bad(f"the server answered {media_type or 'no type'}, not a {kind} file")
            length = response.headers.get("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            if expected is not None and expected > limit:
                raise _bad(f"the server's {kind} file is larger than {limit} bytes")
            size = 0
            head = b""
            with replaced_whole(dest, durable=False) as out:
                try:
                    for chunk in response.iter_raw(CHUNK):
                        size += len(chunk)
                        if size > limit:
                            raise _bad(f"the server's {kind} file is larger than {limit} bytes")
                        if len(head) < len(MAGIC[kind]):
                            head += chunk[: len(MAGIC[kind])]
                        out.write(chunk)
                        if progress is not None:
                            progress(len(chunk), expected)
                except httpx.TransportError as exc:
                    raise ServerUnavailable(
                        None, "Incomplete Response", "the download stopped part way"
                    ) from exc
                if expected is not None and expected != size:
                    raise ServerUnavailable(
                        None,
                        "Incomplete Response",
                        f"the download stopped after {size} of {expected} bytes",
                    )
                if not head.startswith(MAGIC[kind]):
                    raise _bad(f"the server's answer is not a {kind} file")
        return size, response.headers
