"""The client keeps a Word or PDF download only when the answer is what was asked for: the type,
the size announced and received, the first bytes of its kind; else the file is left as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from clients.client import Client
from clients.errors import ApiError, ServerUnavailable
from clients.word import DOCX_MEDIA_TYPE, PDF_MEDIA_TYPE, is_docx
from tests.support.docx_files import make_docx

GOOD_DOCX = make_docx(["Article 1. Scope"])


def client_answering(answer: Callable[[httpx.Request], httpx.Response]) -> Client:
    return Client("http://peerlex.test", "token", transport=httpx.MockTransport(answer))


def fixed(body: bytes, media_type: str, **headers: str) -> Client:
    return client_answering(
        lambda request: httpx.Response(
            200,
            stream=httpx.ByteStream(body),
            headers={"Content-Type": media_type, "Content-Length": str(len(body)), **headers},
        )
    )


def test_a_good_docx_is_written_whole(tmp_path: Path) -> None:
    dest = tmp_path / "v.docx"
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, stream=httpx.ByteStream(GOOD_DOCX), headers={"Content-Type": DOCX_MEDIA_TYPE}
        )

    size = client_answering(answer).document_docx("BLR", "export-law", None, dest)
    assert size == len(GOOD_DOCX)
    assert dest.read_bytes() == GOOD_DOCX
    assert seen[0].url.params["format"] == "docx"


@pytest.mark.parametrize(
    ("client", "error"),
    [
        (fixed(GOOD_DOCX, "text/html"), ApiError),
        (fixed(GOOD_DOCX, PDF_MEDIA_TYPE), ApiError),
        (fixed(b"<html>not a package</html>", DOCX_MEDIA_TYPE), ApiError),
        (fixed(b"", DOCX_MEDIA_TYPE), ApiError),
    ],
)
def test_wrong_answers_leave_the_file_as_it_was(
    tmp_path: Path, client: Client, error: type[Exception]
) -> None:
    dest = tmp_path / "v.docx"
    dest.write_bytes(b"what was there")
    with pytest.raises(error):
        client.document_docx("BLR", "export-law", None, dest)
    assert dest.read_bytes() == b"what was there"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.docx"]


def test_an_oversized_answer_is_refused_as_it_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEERLEX_MAX_DOWNLOAD_BYTES", "1000")
    dest = tmp_path / "r.pdf"
    big = b"%PDF-1.7\n" + b"x" * 5000
    with pytest.raises(ApiError, match="larger than 1000"):
        fixed(big, PDF_MEDIA_TYPE).diff_file("BLR", "export-law", dest, fmt="pdf")
    assert not dest.exists()

    def unannounced(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, stream=httpx.ByteStream(big), headers={"Content-Type": PDF_MEDIA_TYPE}
        )

    with pytest.raises(ApiError, match="larger than 1000"):
        client_answering(unannounced).diff_file("BLR", "export-law", dest, fmt="pdf")
    assert not dest.exists()


def test_a_short_answer_is_incomplete(tmp_path: Path) -> None:
    dest = tmp_path / "r.pdf"
    client = fixed(b"%PDF-1.7\n", PDF_MEDIA_TYPE, **{"Content-Length": "900"})
    with pytest.raises((ServerUnavailable, httpx.HTTPError)):
        client.diff_file("BLR", "export-law", dest, fmt="pdf")
    assert not dest.exists()


def test_a_malformed_count_of_unplaced_comments_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "r.docx"
    client = fixed(GOOD_DOCX, DOCX_MEDIA_TYPE, **{"X-Peerlex-Comments-Not-Placed": "-1\x1b[2J"})
    with pytest.raises(ApiError, match="not a count"):
        client.diff_file("BLR", "export-law", dest, fmt="docx", review="r")
    placed = fixed(GOOD_DOCX, DOCX_MEDIA_TYPE, **{"X-Peerlex-Comments-Not-Placed": "3"})
    assert placed.diff_file("BLR", "export-law", dest, fmt="docx", review="r") == (
        len(GOOD_DOCX),
        3,
    )


def test_word_files_are_known_by_name_or_first_bytes(tmp_path: Path) -> None:
    named = tmp_path / "draft.DOCX"
    named.write_bytes(b"anything")
    unnamed = tmp_path / "draft"
    unnamed.write_bytes(GOOD_DOCX)
    text = tmp_path / "draft.md"
    text.write_text("# Law\n")
    assert is_docx(named)
    assert is_docx(unnamed)
    assert not is_docx(text)
