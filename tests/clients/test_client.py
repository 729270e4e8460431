"""The client library: typed errors that carry the server's words, safe retries, streaming."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from clients.client import Client
from clients.errors import (
    ApiError,
    BadRequest,
    Conflict,
    NotFound,
    ServerError,
    ServerUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    error_for,
)
from clients.transport import CHUNK
from tests.support.live_server import DEMO_PASSWORD, LiveServer
from tests.support.ports import free_port

LAW = "# Draft\n\nArticle 1. Scope\n\nThis Law applies to exports.\n"


def logged_in(server: LiveServer, email: str) -> Client:
    client = Client(server.url)
    client.login(email, DEMO_PASSWORD)
    return client


@pytest.mark.parametrize(
    ("status", "problem", "expected"),
    [
        (404, {"title": "Not Found", "detail": "no such document"}, NotFound),
        (409, {"title": "Conflict", "detail": "stale", "head": "a" * 40}, Conflict),
        (422, {"title": "Unprocessable Content", "detail": "bad", "errors": {}}, ValidationFailed),
        (400, {"title": "Bad Request", "detail": "bad", "errors": {"x": ["y"]}}, ValidationFailed),
        (400, {"title": "Bad Request", "detail": "bad name"}, BadRequest),
        (401, None, Unauthorized),
        (429, None, TooManyRequests),
        (500, None, ServerError),
        (503, None, ServerUnavailable),
        (418, None, ApiError),
    ],
)
def test_status_maps_to_a_typed_error(
    status: int, problem: dict[str, Any] | None, expected: type[ApiError]
) -> None:
    error = error_for(status, problem, "Reason")
    assert type(error) is expected
    assert error.status == status
    assert error.detail == ((problem or {}).get("detail") or error.title)


def test_errors_carry_the_servers_status_title_and_detail(server: LiveServer) -> None:
    client = logged_in(server, "expert@kgz.example")
    with pytest.raises(NotFound) as missing:
        client.document("BLR", "no-such-law")
    assert missing.value.status == 404
    assert missing.value.title == "Not Found"
    assert "may not see it" in missing.value.detail
    with pytest.raises(ValidationFailed) as invalid:
        client.put_document("KGZ", "plan", LAW, "m", base="not-a-sha")
    assert invalid.value.status == 422
    assert "base" in invalid.value.errors
    with pytest.raises(Unauthorized) as refused:
        Client(server.url).login("expert@kgz.example", "wrong password!")
    assert refused.value.detail == "wrong email or password"


def test_conflict_carries_the_current_head(server: LiveServer) -> None:
    client = logged_in(server, "expert@tjk.example")
    first = client.put_document("TJK", "conflict-demo", LAW, "first")["version"]["commit"]
    second = client.put_document("TJK", "conflict-demo", LAW + "\nMore.\n", "second", base=first)
    with pytest.raises(Conflict) as stale:
        client.put_document("TJK", "conflict-demo", LAW + "\nOther.\n", "third", base=first)
    assert stale.value.head == second["version"]["commit"]
    assert stale.value.kind == "stale-version"


def test_logout_revokes_the_token(server: LiveServer) -> None:
    client = logged_in(server, "expert@blr.example")
    token = client.token
    client.logout()
    with pytest.raises(Unauthorized):
        Client(server.url, token).me()


def test_unreachable_server_is_a_typed_error() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", backoff=0.01)
    with pytest.raises(ServerUnavailable) as down:
        client.parties()
    assert down.value.status is None
    assert "cannot reach" in down.value.detail


class _Refusing(httpx.BaseTransport):
    """A transport that fails as a stopped server would."""

    attempts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        type(self).attempts += 1
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.mark.parametrize(("method", "expected"), [("GET", 3), ("POST", 1), ("PUT", 1)])
def test_only_gets_are_retried(method: str, expected: int) -> None:
    _Refusing.attempts = 0
    client = Client("http://127.0.0.1:9", retries=2, backoff=0.001, transport=_Refusing())
    with pytest.raises(ServerUnavailable), client._exchange(method, "parties"):
        pass
    assert _Refusing.attempts == expected


def test_streaming_upload_and_download_round_trip(server: LiveServer, tmp_path: Path) -> None:
    client = logged_in(server, "expert@blr.example")
    source = tmp_path / "annex.pdf"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    sent: list[tuple[int, int | None]] = []
    record = client.upload_attachment(
        "BLR", "export-law", source, progress=lambda n, total: sent.append((n, total))
    )
    assert record["name"] == "annex.pdf"
    assert record["media_type"] == "application/pdf"  # guessed from the name
    assert record["size"] == source.stat().st_size
    assert sum(n for n, _ in sent) == source.stat().st_size
    assert len(sent) > 1  # streamed in chunks, not sent whole
    assert all(n <= CHUNK and total == source.stat().st_size for n, total in sent)
    received: list[int] = []
    out = tmp_path / "back.pdf"
    size = client.download_attachment(
        "BLR", "export-law", record["id"], out, progress=lambda n, _: received.append(n)
    )
    assert size == source.stat().st_size
    assert sum(received) == size
    assert out.read_bytes() == source.read_bytes()


def test_a_failed_download_leaves_no_file(server: LiveServer, tmp_path: Path) -> None:
    client = logged_in(server, "expert@blr.example")
    out = tmp_path / "nothing.bin"
    with pytest.raises(NotFound):
        client.download_attachment("BLR", "export-law", "0000000000000000", out)
    assert list(tmp_path.iterdir()) == []


def test_upload_to_a_document_one_may_not_write(server: LiveServer, tmp_path: Path) -> None:
    client = logged_in(server, "expert@kgz.example")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(2 * 1024 * 1024))
    with pytest.raises(NotFound):
        client.upload_attachment("BLR", "export-law", source)


def test_repeated_failed_sign_ins_are_throttled(server: LiveServer) -> None:
    client = Client(server.url)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            client.login("nobody@client-test.example", "not the password!")
    with pytest.raises(TooManyRequests) as locked:
        client.login("nobody@client-test.example", "not the password!")
    assert locked.value.status == 429
    assert locked.value.retry_after is not None
    assert locked.value.retry_after > 0


def test_logout_everywhere_revokes_every_token_of_the_user(server: LiveServer) -> None:
    laptop = logged_in(server, "head@tjk.example")
    phone = logged_in(server, "head@tjk.example")
    laptop.logout_everywhere()
    with pytest.raises(Unauthorized):
        phone.me()


def test_a_long_diff_is_fetched_page_by_page_and_joined(server: LiveServer) -> None:
    client = logged_in(server, "expert@tjk.example")
    law = "".join(f"Article {n}. Title\n\nText of article {n}.\n\n" for n in range(1, 601))
    first = client.put_document("TJK", "long-law", law, "first")["version"]["commit"]
    changed = law.replace("Text of article 600.", "New text of article 600.")
    second = client.put_document("TJK", "long-law", changed, "second", base=first)
    whole = client.diff("TJK", "long-law")
    assert (whole["from"], whole["to"]) == (first, second["version"]["commit"])
    assert len(whole["blocks"]) == whole["blocks_total"] == 1200
    assert "page" not in whole
    assert [b["op"] for b in whole["blocks"]].count("replace") == 1
    assert whole["blocks"][-1]["new_id"] == "art_600__p1"
    page = client.diff("TJK", "long-law", page=3)
    assert (page["page"], page["pages"], page["first_block"]) == (3, 3, 1000)
    assert page["blocks"] == whole["blocks"][1000:]
    assert "Page 2 of 3" in client.diff("TJK", "long-law", fmt="html", page=2)
