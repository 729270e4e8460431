"""A typed client for the peerlex HTTP API: Bearer tokens, typed errors, streamed transfers."""

from __future__ import annotations

import http.client
import json
import mimetypes
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import quote, urlencode, urlsplit

from clients.errors import ApiError, ServerUnavailable, error_for
from clients.models import (
    Approval,
    Attachment,
    BundleInfo,
    Comment,
    Document,
    DocumentSummary,
    Me,
    Party,
    Recipient,
    Review,
    Share,
    Token,
    Version,
)
from keys.files import replaced_whole

CHUNK = 64 * 1024
USER_AGENT = "peerlex-client/0.1"
# A busy gateway answers these; for a GET, asking again a moment later is safe.
RETRY_STATUSES = frozenset({502, 503, 504})

Progress = Callable[[int, int | None], None]
"""Called with the number of bytes just sent or received, and the total expected if known."""

Query = Mapping[str, str | int | None]


def _path(*parts: str) -> str:
    return "/".join(quote(part, safe="") for part in parts)


def _file_chunks(handle: BinaryIO, size: int, progress: Progress | None) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        if progress is not None:
            progress(len(chunk), size)
        yield chunk


class Client:
    """One user's connection to a peerlex server; every method is one API call."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.25,
    ) -> None:
        parts = urlsplit(server.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) server address: {server!r}")
        self.server = server.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")

    # -- transport ------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                self._host,
                self._port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
                blocksize=CHUNK,
            )
        return http.client.HTTPConnection(
            self._host, self._port, timeout=self.timeout, blocksize=CHUNK
        )

    def _target(self, path: str, query: Query | None) -> str:
        target = f"{self._prefix}/api/v1/{path.lstrip('/')}"
        pairs = {k: str(v) for k, v in (query or {}).items() if v is not None}
        return f"{target}?{urlencode(pairs)}" if pairs else target

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def _unreachable(self, exc: BaseException) -> ServerUnavailable:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {self.timeout:g} s"
        return ServerUnavailable(
            None,
            "Server Unavailable",
            f"cannot reach the peerlex server at {self.server}: {reason}",
        )

    @staticmethod
    def _error(response: http.client.HTTPResponse) -> ApiError:
        raw = response.read(1 << 20)
        problem: dict[str, Any] | None = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                problem = parsed
        return error_for(
            response.status, problem, response.reason, response.getheader("Retry-After")
        )

    @contextmanager
    def _exchange(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: bytes | Iterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """Send one request and yield the successful response; errors become ApiError.

        Only a GET is ever sent twice: on a connection failure or a busy gateway, after a short
        backoff. A write that may have reached the server is never repeated.
        """
        target = self._target(path, query)
        all_headers = self._headers(headers)
        attempts = 1 + self.retries if method == "GET" else 1
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            connection = self._connection()
            try:
                try:
                    connection.request(method, target, body=body, headers=all_headers)
                except (BrokenPipeError, ConnectionResetError) as exc:
                    # The server may have answered (e.g. 404) before reading the whole body.
                    try:
                        early = connection.getresponse()
                    except (OSError, http.client.HTTPException):
                        raise self._unreachable(exc) from exc
                    with early:
                        raise self._error(early) from exc
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if last:
                    raise self._unreachable(exc) from exc
                time.sleep(self.backoff * 2**attempt)
                continue
            except BaseException:
                connection.close()
                raise
            try:
                if response.status in RETRY_STATUSES and not last:
                    response.read()
                    time.sleep(self.backoff * 2**attempt)
                    continue
                if response.status >= 400:
                    raise self._error(response)
                yield response
                return
            finally:
                response.close()
                connection.close()

    def _json(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        data: Any = None,
    ) -> Any:
        body = None
        headers: dict[str, str] = {}
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        with self._exchange(method, path, query=query, body=body, headers=headers) as response:
            raw = response.read()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(
                response.status, "Bad Response", "the server's answer is not JSON"
            ) from exc

    def _text(self, path: str, query: Query | None = None) -> str:
        with self._exchange("GET", path, query=query, headers={"Accept": "*/*"}) as response:
            return response.read().decode("utf-8")

    def _download(self, path: str, dest: Path, progress: Progress | None) -> int:
        """Stream a GET's body into dest (written whole or not at all); returns its size."""
        dest = Path(dest)
        with self._exchange("GET", path, headers={"Accept": "*/*"}) as response:
            length = response.getheader("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            size = 0
            with replaced_whole(dest, durable=False) as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
                    if progress is not None:
                        progress(len(chunk), expected)
                if expected is not None and expected != size:
                    raise ServerUnavailable(
                        None,
                        "Incomplete Response",
                        f"the download stopped after {size} of {expected} bytes",
                    )
        return size

    # -- sessions -------------------------------------------------------------------------

    def login(self, email: str, password: str) -> Token:
        """Exchange email and password for an API token, and use it from now on."""
        token = cast(
            Token, self._json("POST", "auth/tokens", data={"email": email, "password": password})
        )
        self.token = token["token"]
        return token

    def logout(self) -> None:
        """Revoke the token this client uses."""
        self._json("DELETE", "auth/tokens")
        self.token = None

    def logout_everywhere(self) -> None:
        """End every session and revoke every API token of this user, this one included."""
        self._json("POST", "auth/logout-everywhere")
        self.token = None

    def health(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._json("GET", "healthz"))

    def me(self) -> Me:
        return cast(Me, self._json("GET", "me"))

    def parties(self) -> list[Party]:
        return cast(list[Party], self._json("GET", "parties"))

    def allowed_signers(self) -> str:
        return self._text("allowed_signers")

    # -- documents ------------------------------------------------------------------------

    def documents(self, party: str) -> list[DocumentSummary]:
        return cast(list[DocumentSummary], self._json("GET", _path("parties", party, "documents")))

    def document(self, party: str, slug: str, version: str | None = None) -> Document:
        path = _path("parties", party, "documents", slug)
        return cast(Document, self._json("GET", path, query={"version": version}))

    def put_document(
        self,
        party: str,
        slug: str,
        content: str,
        message: str,
        *,
        base: str | None = None,
        title: str | None = None,
        kind: str | None = None,
        language: str | None = None,
    ) -> DocumentSummary:
        """Create a document (no base) or save a new version edited from base."""
        data: dict[str, Any] = {"content": content, "message": message}
        extra = {"base": base, "title": title, "kind": kind, "language": language}
        data.update({k: v for k, v in extra.items() if v is not None})
        path = _path("parties", party, "documents", slug)
        return cast(DocumentSummary, self._json("PUT", path, data=data))

    def versions(self, party: str, slug: str) -> list[Version]:
        path = _path("parties", party, "documents", slug, "versions")
        return cast(list[Version], self._json("GET", path))

    def diff(
        self,
        party: str,
        slug: str,
        *,
        old: str | None = None,
        new: str | None = None,
        fmt: str = "json",
        page: int | None = None,
    ) -> Any:
        """The diff as JSON data (fmt json) or as text (unified, html).

        The server answers JSON and html in pages. JSON without `page` is every page, fetched
        in turn and joined into one comparison; html is one page, the first by default.
        """
        path = _path("parties", party, "documents", slug, "diff")
        query: dict[str, str | int | None] = {"from": old, "to": new, "format": fmt, "page": page}
        if fmt != "json":
            return self._text(path, query)
        first = self._json("GET", path, query=query)
        if page is not None:
            return first
        # The later pages of the very versions the first one resolved.
        query.update({"from": first["from"], "to": first["to"]})
        blocks = list(first["blocks"])
        for number in range(2, int(first.get("pages", 1)) + 1):
            blocks += self._json("GET", path, query={**query, "page": number})["blocks"]
        paging = ("page", "pages", "first_block")
        return {**{k: v for k, v in first.items() if k not in paging}, "blocks": blocks}

    # -- attachments ----------------------------------------------------------------------

    def upload_attachment(
        self,
        party: str,
        slug: str,
        source: Path,
        *,
        name: str | None = None,
        media_type: str | None = None,
        base: str | None = None,
        progress: Progress | None = None,
    ) -> Attachment:
        """Stream a file as an attachment of a document (never read into memory whole)."""
        source = Path(source)
        name = name or source.name
        media_type = media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        path = _path("parties", party, "documents", slug, "attachments")
        with source.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            headers = {"Content-Type": media_type, "Content-Length": str(size)}
            with self._exchange(
                "POST",
                path,
                query={"name": name, "base": base},
                body=_file_chunks(handle, size, progress),
                headers=headers,
            ) as response:
                return cast(Attachment, json.loads(response.read()))

    def attachments(self, party: str, slug: str) -> list[Attachment]:
        path = _path("parties", party, "documents", slug, "attachments")
        return cast(list[Attachment], self._json("GET", path))

    def download_attachment(
        self,
        party: str,
        slug: str,
        attachment_id: str,
        dest: Path,
        *,
        progress: Progress | None = None,
    ) -> int:
        """Stream an attachment, decrypted by the server, into dest; returns its size."""
        path = _path("parties", party, "documents", slug, "attachments", attachment_id)
        return self._download(path, dest, progress)

    def recipients(self, party: str) -> list[Recipient]:
        return cast(list[Recipient], self._json("GET", _path("parties", party, "recipients")))

    def add_recipient(self, party: str, recipient: str, label: str = "") -> Recipient:
        path = _path("parties", party, "recipients")
        data = {"recipient": recipient, "label": label}
        return cast(Recipient, self._json("POST", path, data=data))

    # -- reviews --------------------------------------------------------------------------

    def reviews(self) -> list[Review]:
        return cast(list[Review], self._json("GET", "reviews"))

    def review(self, rid: str) -> Review:
        return cast(Review, self._json("GET", _path("reviews", rid)))

    def create_review(
        self,
        slug: str,
        title: str,
        states: list[str],
        *,
        organisers: list[str] | None = None,
        observers: list[str] | None = None,
    ) -> Review:
        data = {
            "slug": slug,
            "title": title,
            "states": states,
            "organisers": organisers or [],
            "observers": observers or [],
        }
        return cast(Review, self._json("POST", "reviews", data=data))

    def set_review_state(self, rid: str, state: str) -> Review:
        """Move a review on: to `agreement`, then `closed` (organisers)."""
        return cast(Review, self._json("PATCH", _path("reviews", rid), data={"state": state}))

    def share(self, rid: str, party: str, slug: str, version: str) -> Share:
        data = {"party": party, "slug": slug, "version": version}
        return cast(Share, self._json("POST", _path("reviews", rid, "shares"), data=data))

    def shares(self, rid: str) -> list[Share]:
        return cast(list[Share], self._json("GET", _path("reviews", rid, "shares")))

    def comments(
        self,
        rid: str,
        *,
        party: str | None = None,
        slug: str | None = None,
        version: str | None = None,
        status: str | None = None,
    ) -> list[Comment]:
        """The review's comments; with party, slug and version, anchored on that version."""
        query = {"party": party, "slug": slug, "version": version, "status": status}
        return cast(
            list[Comment], self._json("GET", _path("reviews", rid, "comments"), query=query)
        )

    def comment(
        self,
        rid: str,
        body: str,
        *,
        party: str | None = None,
        slug: str | None = None,
        version: str | None = None,
        quote: str | None = None,
        parent: int | None = None,
    ) -> Comment:
        """Comment on a quote of a shared version, or reply to a comment (parent)."""
        data: dict[str, Any] = {"body": body}
        extra = {"party": party, "slug": slug, "version": version, "quote": quote, "parent": parent}
        data.update({k: v for k, v in extra.items() if v is not None})
        return cast(Comment, self._json("POST", _path("reviews", rid, "comments"), data=data))

    def update_comment(
        self, rid: str, comment_id: int, *, status: str | None = None, body: str | None = None
    ) -> Comment:
        data = {k: v for k, v in {"status": status, "body": body}.items() if v is not None}
        path = _path("reviews", rid, "comments", str(comment_id))
        return cast(Comment, self._json("PATCH", path, data=data))

    def approve(self, rid: str, party: str, slug: str, version: str) -> Approval:
        data = {"party": party, "slug": slug, "version": version}
        return cast(Approval, self._json("POST", _path("reviews", rid, "approvals"), data=data))

    def approvals(self, rid: str) -> list[Approval]:
        return cast(list[Approval], self._json("GET", _path("reviews", rid, "approvals")))

    def build_bundle(self, rid: str) -> BundleInfo:
        """Build the signed final bundle (organisers, once every shared document is approved)."""
        return cast(BundleInfo, self._json("POST", _path("reviews", rid, "bundle")))

    def download_bundle(self, rid: str, dest: Path, *, progress: Progress | None = None) -> int:
        """Stream the final bundle into dest; returns its size."""
        return self._download(_path("reviews", rid, "bundle"), dest, progress)
