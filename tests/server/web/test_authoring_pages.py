"""Authoring from the document page: a new version from a file, a stale base, sharing, and the
download links of the document and redline pages."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import docx
import pytest

from server.config import Config
from server.schemas_word import DOCX_MEDIA_TYPE
from tests.server.review_fixtures import LAW_V3
from tests.server.web.pages import DOC, Page, WebWorld, links_to
from tests.server.web.test_signer_pages import hold_own_keys
from tests.support.docx_builder import Package, deleted, inserted, paragraph

API_DOC = "/api/v1/parties/BLR/documents/export-law"
SMALL_BODY = 64 * 1024


@pytest.fixture
def config(config: Config) -> Config:
    """A deployment that takes request bodies of 64 KiB at most, so that oversize is cheap."""
    return dataclasses.replace(config, max_body_bytes=SMALL_BODY)


def upload(page: Page, base: str, text: str | bytes, name: str = "law.md", **fields: str) -> Any:
    body = text.encode() if isinstance(text, str) else text
    form = {"base": base, "message": "Срок сокращён", "file": (io.BytesIO(body), name), **fields}
    return page.post(DOC + "/versions", form, content_type="multipart/form-data")


def stored_blobs(web_world: WebWorld) -> list[Path]:
    """The encrypted attachment bodies in the data directory."""
    return list((web_world.app.extensions["peerlex.config"].data_dir / "blobs").rglob("*.age"))


def versions_of(web_world: WebWorld) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = web_world.world["own"].get(f"{API_DOC}/versions").json
    return listed


def test_an_expert_uploads_a_new_version_and_sees_it(web_world: WebWorld) -> None:
    own = web_world.page("own")
    new_text = LAW_V3 + "\nСтатья 9. Вступление в силу\n\nЗакон вступает в силу.\n"
    # Windows editors write CRLF and a byte order mark; the stored text has neither.
    body = b"\xef\xbb\xbf" + new_text.replace("\n", "\r\n").encode()
    answer = upload(own, web_world.versions[2], body, "проект.txt", message="Статья 9 добавлена")
    assert answer.status_code == 303
    newest = versions_of(web_world)[0]
    assert newest["message"] == "Статья 9 добавлена"
    assert newest["parent"] == web_world.versions[2]
    assert newest["author"]["email"] == "expert@blr.example"
    stored = web_world.world["own"].get(f"{API_DOC}?version={newest['commit']}").json
    assert stored["content"] == new_text
    page = own.get(answer.headers["Location"])
    assert "Saved the new version " + newest["commit"][:12] in page.text
    assert "Статья 9 добавлена" in page.text
    assert "Закон вступает в силу." in page.text


def test_the_same_file_again_writes_nothing_and_says_so(web_world: WebWorld) -> None:
    own = web_world.page("own")
    answer = upload(own, web_world.versions[2], LAW_V3)
    assert answer.status_code == 303
    assert "nothing was saved" in own.get(answer.headers["Location"]).text
    assert len(versions_of(web_world)) == 3


def test_a_stale_upload_names_the_newer_version_and_writes_nothing(web_world: WebWorld) -> None:
    v1, v2, v3 = web_world.versions
    head = web_world.page("head")
    answer = upload(head, v2, LAW_V3 + "\nСтатья 9. Иное.\n", message="Моя правка")
    assert answer.status_code == 409
    assert len(versions_of(web_world)) == 3
    text = answer.text
    assert "The document has moved on" in text
    assert v3[:12] in text
    assert "expert@blr.example" in text
    assert f"/redline?from={v2}&amp;to={v3}" in text
    # The way to upload again: the form, now on the newer version, with the message kept.
    assert f'name="base" value="{v3}"' in text
    assert "Моя правка</textarea>" in text


def test_an_oversize_upload_is_refused_with_a_clear_message(web_world: WebWorld) -> None:
    own = web_world.page("own")
    answer = upload(own, web_world.versions[2], "Статья 1. " + "слово " * (SMALL_BODY // 8))
    assert answer.status_code == 413
    assert "larger than" in answer.text
    assert len(versions_of(web_world)) == 3


def test_an_owner_shares_the_version_shown_and_peers_then_see_it(web_world: WebWorld) -> None:
    v2 = web_world.versions[1]
    own, peer = web_world.page("own"), web_world.page("peer")
    assert peer.get(f"{DOC}?version={v2}").status_code == 404
    page = own.get(f"{DOC}?version={v2}")
    assert f'<input type="hidden" name="version" value="{v2}">' in page.text
    assert '<option value="dushanbe-2017" selected>Dushanbe 2017</option>' in page.text
    shown_v3 = own.get(DOC).text
    assert (
        '<option value="dushanbe-2017" selected>Dushanbe 2017 · already shared</option>' in shown_v3
    )
    answer = own.post(DOC + "/shares", {"version": v2, "review": "dushanbe-2017"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{DOC}?version={v2}"
    assert (
        "Shared version " + v2[:12] + " into Dushanbe 2017." in own.get(f"{DOC}?version={v2}").text
    )
    assert peer.get(f"{DOC}?version={v2}").status_code == 200
    again = own.post(DOC + "/shares", {"version": v2, "review": "dushanbe-2017"})
    assert "already shared" in own.get(again.headers["Location"]).text


def test_sharing_is_refused_where_the_review_does_not_take_it(web_world: WebWorld) -> None:
    own, organiser = web_world.page("own"), web_world.page("organiser")
    v2 = web_world.versions[1]
    other = web_world.world["organiser"].post(
        "/api/v1/reviews", json={"slug": "bishkek-2018", "title": "Bishkek 2018", "states": ["KGZ"]}
    )
    assert other.status_code == 201
    # A review BLR does not take part in: not offered, and refused when asked for anyway.
    assert "bishkek-2018" not in own.get(DOC).text
    refused = own.post(DOC + "/shares", {"version": v2, "review": "bishkek-2018"})
    assert refused.status_code == 404
    assert own.post(DOC + "/shares", {"version": "0" * 40}).status_code == 422
    assert own.post(DOC + "/shares", {"version": "x"}).status_code == 400
    # A closed review: not offered, and refused with the reason.
    for state in ("agreement", "closed"):
        assert organiser.post("/reviews/dushanbe-2017/state", {"state": state}).status_code == 302
    assert "/shares" not in own.get(DOC).text
    closed = own.post(DOC + "/shares", {"version": v2, "review": "dushanbe-2017"})
    assert closed.status_code == 409
    assert "the review is closed" in closed.text


@pytest.mark.parametrize("role", ["own", "peer", "observer"])
def test_the_redline_page_offers_its_docx_and_pdf(web_world: WebWorld, role: str) -> None:
    v1, _, v3 = web_world.versions
    text = web_world.page(role).get(f"{DOC}/redline?from={v1}&to={v3}").text
    offered = [links_to(f"{API_DOC}/diff", text, fmt) for fmt in ("docx", "pdf")]
    for fmt, query in zip(("docx", "pdf"), offered, strict=True):
        assert query == {"from": v1, "to": v3, "review": "dushanbe-2017", "format": fmt}


def law_as_docx(text: str) -> bytes:
    """The law as Word writes it, one paragraph per block, made with python-docx."""
    document = docx.Document()
    for block in text.strip().split("\n\n"):
        if block.startswith("# "):
            document.add_heading(block[2:], level=1)
        else:
            document.add_paragraph(block.replace("\n", " "))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_an_expert_uploads_a_docx_kept_as_an_encrypted_attachment(web_world: WebWorld) -> None:
    own, peer = web_world.page("own"), web_world.page("peer")
    new_text = LAW_V3 + "\nСтатья 9. Вступление в силу\n\nЗакон вступает в силу.\n"
    answer = upload(
        own, web_world.versions[2], law_as_docx(new_text), "проект.docx", message="Из Word"
    )
    assert answer.status_code == 303, answer.text
    newest = versions_of(web_world)[0]
    assert newest["message"] == "Из Word"
    stored = web_world.world["own"].get(f"{API_DOC}?version={newest['commit']}").json["content"]
    assert "Статья 9. Вступление в силу" in stored
    assert "Закон вступает в силу." in stored
    page = own.get(answer.headers["Location"]).text
    assert "проект.docx" in page
    # The kept original is readable by the State, not by a peer before it is shared.
    kept = web_world.world["own"].get(f"{API_DOC}/attachments").json
    assert [a["name"] for a in kept] == ["проект.docx"]
    [blob] = stored_blobs(web_world)
    assert blob.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert peer.get(f"{DOC}?version={newest['commit']}").status_code == 404


def test_a_docx_with_tracked_changes_is_refused_naming_them(web_world: WebWorld) -> None:
    body = [
        paragraph(["<w:r><w:t>Статья 1. Срок </w:t></w:r>", inserted("десять", 1)]),
        paragraph(["<w:r><w:t>Статья 2. </w:t></w:r>", deleted("Старый текст", 2)]),
        paragraph(["<w:r><w:t>Статья 3. </w:t></w:r>", inserted("Новый", 3)]),
    ]
    answer = upload(web_world.page("own"), web_world.versions[2], Package(body).build(), "d.docx")
    assert answer.status_code == 422
    assert "2 insertion(s) and 1 deletion(s)" in answer.text
    assert "Accept or reject them in Word first" in answer.text
    assert "Nothing was written" in answer.text
    assert len(versions_of(web_world)) == 3
    assert web_world.world["own"].get(f"{API_DOC}/attachments").json == []
    assert stored_blobs(web_world) == []


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        (b"PK\x03\x04 not really a zip", 422, "is damaged and cannot be read"),
        (b"%PDF-1.7\n", 415, "is not a Word document"),
    ],
)
def test_a_file_named_docx_that_is_not_word_is_refused(
    web_world: WebWorld, body: bytes, status: int, said: str
) -> None:
    answer = upload(web_world.page("own"), web_world.versions[2], body, "law.docx")
    assert answer.status_code == status
    assert said in answer.text
    assert "Nothing was written" in answer.text
    assert len(versions_of(web_world)) == 3
    assert web_world.world["own"].get(f"{API_DOC}/attachments").json == []
    assert stored_blobs(web_world) == []


def test_the_download_links_answer_signed_in_browsers(web_world: WebWorld) -> None:
    """A cookie session is enough to follow the links: the version and the redline, as a peer."""
    v1, _, v3 = web_world.versions
    peer = web_world.page("peer")
    page = peer.get(f"{DOC}?version={v3}").text
    version = peer.get(API_DOC + "?" + urlencode(links_to(API_DOC, page, "docx")))
    assert version.status_code == 200
    assert version.mimetype == DOCX_MEDIA_TYPE
    assert version.data.startswith(b"PK")
    redline = peer.get(f"{DOC}/redline?from={v1}&to={v3}").text
    for fmt, mimetype, magic in (
        ("docx", DOCX_MEDIA_TYPE, b"PK"),
        ("pdf", "application/pdf", b"%PDF"),
    ):
        query = urlencode(links_to(f"{API_DOC}/diff", redline, fmt))
        answer = peer.get(f"{API_DOC}/diff?{query}")
        assert answer.status_code == 200, (fmt, answer.text[:300])
        assert answer.mimetype == mimetype
        assert answer.data.startswith(magic)


@pytest.mark.parametrize("kind", ["md", "docx"])
def test_a_self_custody_state_is_told_to_push_with_its_own_key(
    web_world: WebWorld, kind: str
) -> None:
    """The server holds no key to sign with: no upload form, and a crafted upload writes nothing."""
    hold_own_keys(web_world.app, "BLR")
    own = web_world.page("own")
    page = own.get(DOC).text
    assert DOC + "/versions" not in page
    assert DOC + "/shares" in page
    body = law_as_docx(LAW_V3 + "\nСтатья 9.\n") if kind == "docx" else LAW_V3 + "\nСтатья 9.\n"
    answer = upload(own, web_world.versions[2], body, f"law.{kind}")
    assert answer.status_code == 409
    assert "holds its own keys" in answer.text
    assert len(versions_of(web_world)) == 3
    assert web_world.world["own"].get(f"{API_DOC}/attachments").json == []
    assert stored_blobs(web_world) == []
    assert stored_blobs(web_world) == []
