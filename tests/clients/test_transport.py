"""The client's HTTP transport against a scripted server: one connection for many requests,
retries of reads only and within bounds, streamed bodies, and answers it must refuse."""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clients import transport
from clients.client import Client
from clients.errors import ApiError, NotFound, ServerUnavailable

Answer = Callable[["Scripted"], None]


@dataclass
class Seen:
    """What the scripted server saw: each request's method and path, and its connection."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    connections: list[tuple[str, int]] = field(default_factory=list)


class Scripted(BaseHTTPRequestHandler):
    """Answers a request with the function its server was given; keeps connections open."""

    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:  # in blocks: the test measures the client's memory, not this
            length -= len(self.rfile.read(min(length, 1 << 16)))
        self.server.seen.requests.append((self.command, self.path))
        self.server.seen.connections.append(self.client_address)
        self.server.answer(self)

    do_GET = do_HEAD = do_POST = do_PUT = _handle

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *_: Any) -> None:  # keep the test output quiet
        pass


class ScriptedServer(ThreadingHTTPServer):
    def __init__(self, answer: Answer) -> None:
        super().__init__(("127.0.0.1", 0), Scripted)
        self.answer = answer
        self.seen = Seen()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the client hangs up: refusing an oversize answer is meant to."""


@pytest.fixture
def scripted() -> Iterator[Callable[[Answer], tuple[str, Seen]]]:
    """Start a server answering with a given function; yields its address and what it saw."""
    servers: list[ScriptedServer] = []

    def start(answer: Answer) -> tuple[str, Seen]:
        server = ScriptedServer(answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", server.seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def ok_json(handler: Scripted) -> None:
    handler.send(200, json.dumps([{"code": "BLR"}]).encode(), {"Content-Type": "application/json"})


def test_one_connection_serves_many_requests(scripted: Any) -> None:
    url, seen = scripted(ok_json)
    with Client(url, "plx_token") as client:
        for _ in range(3):
            assert client.parties() == [{"code": "BLR"}]
        client.add_recipient("UNRCPD", "age1x")
    assert len(seen.requests) == 4
    assert len(set(seen.connections)) == 1


def busy_then(answer: Answer, busy: int, retry_after: str) -> Answer:
    """Answer 503 with Retry-After to the first `busy` requests, then as answer does."""
    count = 0

    def respond(handler: Scripted) -> None:
        nonlocal count
        count += 1
        if count <= busy:
            handler.send(503, b'{"title": "Busy"}', {"Retry-After": retry_after})
        else:
            answer(handler)

    return respond


def test_a_get_is_asked_again_after_a_503_once_retry_after_has_passed(scripted: Any) -> None:
    url, seen = scripted(busy_then(ok_json, busy=1, retry_after="1"))
    client = Client(url, backoff=0.01)
    started = time.monotonic()
    assert client.parties() == [{"code": "BLR"}]
    assert time.monotonic() - started >= 1.0  # the server's wait, not the short backoff
    assert len(seen.requests) == 2


def test_a_head_is_asked_again_but_no_more_than_retries_allows(scripted: Any) -> None:
    url, seen = scripted(busy_then(ok_json, busy=10, retry_after="0"))
    client = Client(url, retries=2, backoff=0.001)
    with pytest.raises(ServerUnavailable) as busy, client._exchange("HEAD", "parties"):
        pass
    assert busy.value.status == 503
    assert len(seen.requests) == 3


def test_a_long_retry_after_is_reported_not_waited_for(scripted: Any) -> None:
    url, seen = scripted(busy_then(ok_json, busy=1, retry_after="120"))
    client = Client(url, backoff=0.001)
    started = time.monotonic()
    with pytest.raises(ServerUnavailable) as busy:
        client.parties()
    assert time.monotonic() - started < transport.MAX_RETRY_WAIT
    assert busy.value.problem["retry_after"] == 120
    assert len(seen.requests) == 1


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_write_is_never_sent_twice(scripted: Any, method: str) -> None:
    url, seen = scripted(busy_then(ok_json, busy=1, retry_after="0"))
    client = Client(url, retries=2, backoff=0.001)
    with pytest.raises(ServerUnavailable):
        client._json(method, "reviews", data={"slug": "r"})
    assert len(seen.requests) == 1


def stream_body(size: int) -> Answer:
    """Send size bytes in blocks, never holding them all."""

    def respond(handler: Scripted) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        block = b"x" * (1 << 20)
        for start in range(0, size, len(block)):
            handler.wfile.write(block[: size - start])

    return respond


def test_a_download_streams_to_disk_without_holding_the_body(scripted: Any, tmp_path: Path) -> None:
    size = 48 << 20
    url, _ = scripted(stream_body(size))
    client = Client(url)
    out = tmp_path / "bundle.tar"
    tracemalloc.start()
    try:
        saved = client.download_bundle("r", out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert saved == size == out.stat().st_size
    assert peak < 4 << 20, peak  # a few blocks at a time, never the body


def test_an_upload_streams_from_the_file(scripted: Any, tmp_path: Path) -> None:
    def answer(handler: Scripted) -> None:
        handler.send(201, json.dumps({"id": "a1", "size": 1}).encode())

    url, _ = scripted(answer)
    source = tmp_path / "annex.bin"
    source.write_bytes(b"y" * (32 << 20))
    tracemalloc.start()
    try:
        record = Client(url).upload_attachment("BLR", "law", source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record["id"] == "a1"
    assert peak < 4 << 20, peak


def test_an_answer_that_is_not_json_is_refused(scripted: Any) -> None:
    url, _ = scripted(lambda handler: handler.send(200, b"<html>not json</html>"))
    with pytest.raises(ApiError) as bad:
        Client(url).parties()
    assert bad.value.title == "Bad Response"
    assert bad.value.detail == "the server's answer is not JSON"


def test_an_answer_larger_than_the_limit_is_refused(
    scripted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "MAX_ANSWER", 1 << 20)
    url, _ = scripted(stream_body(3 << 20))
    with pytest.raises(ApiError) as bad:
        Client(url).parties()
    assert bad.value.title == "Bad Response"
    assert "larger than 1 MiB" in bad.value.detail


def test_an_oversize_problem_is_read_no_further_than_its_limit(scripted: Any) -> None:
    detail = "z" * (2 << 20)
    body = json.dumps({"title": "Not Found", "detail": detail}).encode()
    url, _ = scripted(lambda handler: handler.send(404, body))
    with pytest.raises(NotFound) as missing:
        Client(url).parties()
    assert missing.value.status == 404
    assert missing.value.detail == "Not Found"  # the cut-off problem is not taken for JSON


def test_a_download_cut_short_leaves_no_file(scripted: Any, tmp_path: Path) -> None:
    def answer(handler: Scripted) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"only this")
        handler.close_connection = True

    url, _ = scripted(answer)
    with pytest.raises(ServerUnavailable) as cut:
        Client(url).download_bundle("r", tmp_path / "bundle.tar")
    assert cut.value.detail == "the download stopped after 9 of 1000 bytes"
    assert list(tmp_path.iterdir()) == []
