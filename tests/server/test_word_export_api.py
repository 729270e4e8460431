"""Versions and comparisons out as Word and PDF: the right bytes to the right readers only."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest

from repo_store.word.reader import read_docx
from repo_store.word.writer import text_to_docx
from tests.server.review_fixtures import LAW_V1, LAW_V2, LAW_V3, ReviewWorld

DOC = "/api/v1/parties/BLR/documents/export-law"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pandoc_text(data: bytes, tmp_path: Path, changes: str = "accept") -> str:
    """What pandoc reads in a .docx, as plain text, with tracked changes accepted or rejected."""
    source = tmp_path / f"in-{changes}.docx"
    source.write_bytes(data)
    return subprocess.run(
        ["pandoc", f"--track-changes={changes}", "-f", "docx", "-t", "plain", str(source)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout


def pdf_text(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "redline.pdf"
    source.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_version_as_docx(review_world: ReviewWorld) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    got = world["own"].get(DOC, query_string={"version": v1, "format": "docx"})
    assert got.status_code == 200
    assert got.mimetype == DOCX
    assert got.headers["Content-Disposition"] == f'attachment; filename="export-law-{v1[:12]}.docx"'
    opened = docx.Document(io.BytesIO(got.data))
    assert any("Статья 2. Лицензирование" in p.text for p in opened.paragraphs)
    stored = world["own"].get(DOC, query_string={"version": v1}).json["content"]
    assert read_docx(got.data).text == stored


def test_redline_docx_accepts_to_newer_and_rejects_to_older(
    review_world: ReviewWorld, tmp_path: Path
) -> None:
    world = review_world
    v1, v3 = world.push(LAW_V1), world.push(LAW_V3)
    got = world["own"].get(f"{DOC}/diff", query_string={"from": v1, "to": v3, "format": "docx"})
    assert got.status_code == 200, got.data[:300]
    assert got.mimetype == DOCX
    assert "X-Peerlex-Comments-Not-Placed" not in got.headers
    document = zipfile.ZipFile(io.BytesIO(got.data)).read("word/document.xml").decode()
    assert "<w:ins " in document
    assert "<w:del " in document
    new = world["own"].get(DOC, query_string={"version": v3}).json["content"]
    old = world["own"].get(DOC, query_string={"version": v1}).json["content"]
    assert pandoc_text(got.data, tmp_path, "accept") == pandoc_text(text_to_docx(new), tmp_path)
    assert pandoc_text(got.data, tmp_path, "reject") == pandoc_text(text_to_docx(old), tmp_path)


def comment(world: ReviewWorld, version: str, quote: str, body: str) -> int:
    made = world["peer"].post(
        world.url("/comments"),
        json={
            "party": "BLR",
            "slug": "export-law",
            "version": version,
            "quote": quote,
            "body": body,
        },
    )
    assert made.status_code == 201, made.json
    found: int = made.json["id"]
    return found


def test_redline_docx_with_review_comments(review_world: ReviewWorld) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    world.share(v1)
    world.share(v2)
    comment(world, v2, "передаче технологий", "Каких именно технологий?")
    comment(world, v1, "административная ответственность", "Мало")
    got = world["peer"].get(
        f"{DOC}/diff",
        query_string={"from": v1, "to": v2, "format": "docx", "review": world.review},
    )
    assert got.status_code == 200, got.data[:300]
    assert got.headers["X-Peerlex-Comments-Not-Placed"] == "0"
    comments = zipfile.ZipFile(io.BytesIO(got.data)).read("word/comments.xml").decode()
    assert "Каких именно технологий?" in comments
    assert "Мало" in comments


def test_redline_pdf_with_notes(review_world: ReviewWorld, tmp_path: Path) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    world.share(v1)
    world.share(v2)
    comment(world, v2, "передаче технологий", "Каких именно технологий?")
    got = world["peer"].get(
        f"{DOC}/diff",
        query_string={"from": v1, "to": v2, "format": "pdf", "review": world.review},
    )
    assert got.status_code == 200
    assert got.mimetype == "application/pdf"
    assert got.data.startswith(b"%PDF-")
    text = pdf_text(got.data, tmp_path)
    assert "технологий" in text
    assert "Каких именно" in text
    assert got.headers["X-Peerlex-Comments-Not-Placed"] == "0"


def test_review_needs_a_file_format(review_world: ReviewWorld) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    got = world["own"].get(
        f"{DOC}/diff", query_string={"from": v1, "to": v2, "review": world.review}
    )
    assert got.status_code == 422


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_peer_gets_nothing_of_an_unshared_version(review_world: ReviewWorld, fmt: str) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    world.share(v1)
    # v2 is not shared: no export of it or of a comparison with it, with or without review.
    assert world["peer"].get(DOC, query_string={"version": v2, "format": "docx"}).status_code == 404
    for query in (
        {"from": v1, "to": v2, "format": fmt},
        {"from": v1, "to": v2, "format": fmt, "review": world.review},
        {"to": v2, "format": fmt},
    ):
        answer = world["peer"].get(f"{DOC}/diff", query_string=query)
        assert answer.status_code == 404
        assert answer.mimetype == "application/problem+json"
    # Without a version the peer gets the newest shared one.
    got = world["peer"].get(DOC, query_string={"format": "docx"})
    assert got.status_code == 200
    assert got.headers["Content-Disposition"].endswith(f'-{v1[:12]}.docx"')


@pytest.mark.parametrize("role", ["outsider", "other_organiser", "admin"])
def test_outsiders_get_404(review_world: ReviewWorld, role: str) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    world.share(v1)
    world.share(v2)
    assert world[role].get(DOC, query_string={"format": "docx"}).status_code == 404
    for fmt in ("docx", "pdf"):
        query = {"from": v1, "to": v2, "format": fmt}
        assert world[role].get(f"{DOC}/diff", query_string=query).status_code == 404


def test_review_of_another_document_pair_is_404(review_world: ReviewWorld) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    world.share(v2)
    # The owner may compare v1 and v2, but v1 is not in the review: its comments are not asked.
    answer = world["own"].get(
        f"{DOC}/diff",
        query_string={"from": v1, "to": v2, "format": "docx", "review": world.review},
    )
    assert answer.status_code == 404


def test_comment_on_deleted_words_sits_on_them(review_world: ReviewWorld) -> None:
    world = review_world
    v1, v3 = world.push(LAW_V1), world.push(LAW_V3)
    world.share(v1)
    world.share(v3)
    comment(world, v1, "административная ответственность", "Почему удалено?")
    got = world["peer"].get(
        f"{DOC}/diff",
        query_string={"from": v1, "to": v3, "format": "docx", "review": world.review},
    )
    assert got.status_code == 200
    assert got.headers["X-Peerlex-Comments-Not-Placed"] == "0"
    package = zipfile.ZipFile(io.BytesIO(got.data))
    assert "Почему удалено?" in package.read("word/comments.xml").decode()
    document = package.read("word/document.xml").decode()
    start = document.index("<w:commentRangeStart")
    end = document.index("<w:commentRangeEnd")
    between = document[start:end]
    assert "административная" in between
    assert "<w:delText" in between
