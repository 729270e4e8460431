"""How the client speaks HTTP: one pooled connection per client, bounded retries of reads only,
bodies streamed both ways, and every failure turned into a typed ApiError."""

from __future__ import annotations

import json
import ssl
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

import httpx

from clients.errors import ApiError, ServerUnavailable, error_for
from keys.files import replaced_whole

CHUNK = 64 * 1024
USER_AGENT = "peerlex-client/0.1"
# Only a read is ever sent twice: a write that may have reached the server is never repeated.
RETRY_METHODS = frozenset({"GET", "HEAD"})
# A busy gateway answers these; for a read, asking again a moment later is safe.
RETRY_STATUSES = frozenset({502, 503, 504})
# A Retry-After up to this many seconds is waited for; a longer one is reported to the user.
MAX_RETRY_WAIT = 5.0
MAX_PROBLEM = 1 << 20  # bytes of an error answer read, at most
MAX_ANSWER = 128 << 20  # bytes of a JSON or text answer held in memory, at most

Query = Mapping[str, str | int | None]
Body = bytes | Iterator[bytes] | None
Progress = Callable[[int, int | None], None]
"""Called with the number of bytes just sent or received, and the total expected if known."""


class HttpSession:
    """The connection to one peerlex server's API, shared by every call a client makes."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(server.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) server address: {server!r}")
        self.server = server.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(
            timeout=timeout,
            verify=ssl.create_default_context(),  # the system's trusted CAs, host names checked
            # Only what the caller says counts: no proxy, netrc or CA settings from the
            # environment, no redirects, and no cookies (the API authenticates by token).
            trust_env=False,
            follow_redirects=False,
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            transport=transport,
        )
        # Pooled connections are closed when the client is, or when it is dropped.
        self._closer = weakref.finalize(self, self._http.close)

    def close(self) -> None:
        """Close the pooled connections; the client is of no further use."""
        self._closer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _url(self, path: str, query: Query | None) -> str:
        url = f"{self.server}/api/v1/{path.lstrip('/')}"
        pairs = {k: str(v) for k, v in (query or {}).items() if v is not None}
        return f"{url}?{urlencode(pairs)}" if pairs else url

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def _unreachable(self, exc: Exception) -> ServerUnavailable:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            reason = f"no answer within {self.timeout:g} s"
        return ServerUnavailable(
            None,
            "Server Unavailable",
            f"cannot reach the peerlex server at {self.server}: {reason}",
        )

    @staticmethod
    def _read_upto(response: httpx.Response, limit: int) -> bytes:
        """The body, or its first limit + 1 bytes when it is longer: never more in memory."""
        data = bytearray()
        for chunk in response.iter_raw():
            data += chunk
            if len(data) > limit:
                break
        return bytes(data[: limit + 1])

    def _error(self, response: httpx.Response) -> ApiError:
        try:
            raw = self._read_upto(response, MAX_PROBLEM)[:MAX_PROBLEM]
        except httpx.TransportError:
            raw = b""  # the status alone says what happened
        problem: dict[str, Any] | None = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                problem = parsed
        return error_for(
            response.status_code,
            problem,
            response.reason_phrase,
            response.headers.get("Retry-After"),
        )

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before asking again after a busy answer; None not to ask again."""
        wait: float = self.backoff * 2.0**attempt
        retry_after = response.headers.get("Retry-After", "").strip()
        if retry_after.isdigit():
            if int(retry_after) > MAX_RETRY_WAIT:
                return None
            wait = max(wait, float(retry_after))
        return wait

    @contextmanager
    def _exchange(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Send one request and yield the successful response, its body not yet read; errors
        become ApiError.

        Only a GET or HEAD is ever sent again: after a connection failure or a busy gateway
        (502, 503, 504), at most `retries` times, after a backoff that doubles each time or the
        server's Retry-After if it is longer (and no more than MAX_RETRY_WAIT).
        """
        request = self._http.build_request(
            method, self._url(path, query), content=body, headers=self._headers(headers)
        )
        attempts = 1 + self.retries if method in RETRY_METHODS else 1
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                if last:
                    raise self._unreachable(exc) from exc
                time.sleep(self.backoff * 2**attempt)
                continue
            try:
                wait = None
                if response.status_code in RETRY_STATUSES and not last:
                    wait = self._retry_wait(response, attempt)
                if wait is not None:
                    time.sleep(wait)
                    continue
                if response.status_code >= 400:
                    raise self._error(response)
                try:
                    yield response
                except httpx.TransportError as exc:
                    raise self._unreachable(exc) from exc
                return
            finally:
                response.close()

    def _read_answer(self, response: httpx.Response) -> bytes:
        raw = self._read_upto(response, MAX_ANSWER)
        if len(raw) > MAX_ANSWER:
            raise ApiError(
                response.status_code,
                "Bad Response",
                f"the server's answer is larger than {MAX_ANSWER >> 20} MiB",
            )
        return raw

    def _json(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        data: Any = None,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send a request (data as a JSON body, or a body as it is) and parse the JSON answer."""
        all_headers = dict(headers or {})
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode()
            all_headers["Content-Type"] = "application/json"
        with self._exchange(method, path, query=query, body=body, headers=all_headers) as answer:
            raw = self._read_answer(answer)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(
                answer.status_code, "Bad Response", "the server's answer is not JSON"
            ) from exc

    def _text(self, path: str, query: Query | None = None) -> str:
        with self._exchange("GET", path, query=query, headers={"Accept": "*/*"}) as response:
            return self._read_answer(response).decode("utf-8")

    def _download(self, path: str, dest: Path, progress: Progress | None) -> int:
        """Stream a GET's body into dest (written whole or not at all); returns its size."""
        return self._download_answer(path, dest, progress)[0]

    def _download_answer(
        self, path: str, dest: Path, progress: Progress | None
    ) -> tuple[int, Mapping[str, str]]:
        """Stream a GET's body into dest (whole or not at all); return its size and headers."""
        dest = Path(dest)
        with self._exchange("GET", path, headers={"Accept": "*/*"}) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            size = 0
            with replaced_whole(dest, durable=False) as out:
                try:
                    for chunk in response.iter_raw():
                        out.write(chunk)
                        size += len(chunk)
                        if progress is not None:
                            progress(len(chunk), expected)
                except httpx.TransportError:
                    if expected is None:
                        raise
                if expected is not None and expected != size:
                    raise ServerUnavailable(
                        None,
                        "Incomplete Response",
                        f"the download stopped after {size} of {expected} bytes",
                    )
        return size, response.headers
