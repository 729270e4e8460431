"""Starting a new document from the review page: .md and .docx, shared or not, and every bad
input refused with the form again and nothing written."""

from __future__ import annotations

import io
import subprocess
from typing import Any

import pytest

from tests.server.review_fixtures import LAW_V3
from tests.server.web.pages import Page, WebWorld
from tests.server.web.test_authoring_pages import SMALL_BODY, config, law_as_docx, stored_blobs
from tests.server.web.test_signer_pages import hold_own_keys
from tests.support.docx_builder import Package, inserted, paragraph

__all__ = ["config"]  # the deployment with a small body limit, so that oversize is cheap

REVIEW = "/reviews/dushanbe-2017"
NEW = REVIEW + "/states/BLR/documents"
API = "/api/v1/parties/BLR/documents"
TEXT = "# Закон об экспортном контроле\n\nСтатья 1. Общие положения\n\nНастоящий закон.\n"


def create(page: Page, body: bytes | str = TEXT, name: str = "draft.md", **fields: Any) -> Any:
    data = body.encode() if isinstance(body, str) else body
    form: dict[str, Any] = {
        "slug": "dual-use-law",
        "title": "Закон о товарах двойного назначения",
        "kind": "law",
        "language": "ru",
        "message": "Первый проект",
        "share": "on",
        "file": (io.BytesIO(data), name),
        **fields,
    }
    form = {key: value for key, value in form.items() if value is not None}
    return page.post(NEW, form, content_type="multipart/form-data")


def refs(web_world: WebWorld) -> str:
    """Every ref of the State's repositories: a new document or commit shows here."""
    data = web_world.app.extensions["peerlex.config"].data_dir
    found = []
    for git_dir in sorted(data.rglob("*.git")):
        out = subprocess.run(
            ["git", "--git-dir", str(git_dir), "for-each-ref"],
            capture_output=True,
            text=True,
            check=True,
        )
        found.append(f"{git_dir}\n{out.stdout}")
    return "\n".join(found)


def shares(web_world: WebWorld) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (
        web_world.world["own"].get(f"{REVIEW.replace('/reviews', '/api/v1/reviews')}/shares").json
    )
    return listed


def test_an_expert_starts_a_markdown_document_shared_into_the_review(web_world: WebWorld) -> None:
    own, peer = web_world.page("own"), web_world.page("peer")
    assert NEW in own.get(REVIEW).text
    before = refs(web_world)
    answer = create(own)
    assert answer.status_code == 303, answer.text
    assert refs(web_world) != before  # the refs seen by the refusals' checks show a new one
    doc = f"{REVIEW}/documents/BLR/dual-use-law"
    assert answer.headers["Location"] == doc
    stored = web_world.world["own"].get(f"{API}/dual-use-law").json
    assert stored["content"] == TEXT
    assert stored["title"] == "Закон о товарах двойного назначения"
    assert stored["kind"] == "law"
    assert stored["language"] == "ru"
    [share] = [s for s in shares(web_world) if s["slug"] == "dual-use-law"]
    assert share["version"] == stored["version"]["commit"]
    # Shared: the review's peers read it.
    assert "Статья 1. Общие положения" in peer.get(doc).text


def test_a_docx_document_not_shared_stays_the_states_own(web_world: WebWorld) -> None:
    own = web_world.page("own")
    answer = create(
        own, law_as_docx(LAW_V3), "проект.docx", share=None, kind="regulation", language="en"
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"] == REVIEW
    stored = web_world.world["own"].get(f"{API}/dual-use-law").json
    assert "Статья" in stored["content"]
    assert stored["kind"] == "regulation"
    assert stored["language"] == "en"
    assert [s for s in shares(web_world) if s["slug"] == "dual-use-law"] == []
    kept = web_world.world["own"].get(f"{API}/dual-use-law/attachments").json
    assert [a["name"] for a in kept] == ["проект.docx"]
    assert web_world.page("peer").get(f"{REVIEW}/documents/BLR/dual-use-law").status_code == 404


TRACKED = Package([paragraph(["<w:r><w:t>Статья 1. </w:t></w:r>", inserted("Срок", 1)])]).build()


@pytest.mark.parametrize(
    ("fields", "status", "said"),
    [
        ({"slug": "Bad Slug"}, 422, "lower-case Latin letters"),
        ({"slug": "-law"}, 422, "lower-case Latin letters"),
        ({"slug": "a" * 64}, 422, "lower-case Latin letters"),
        ({"slug": "export-law"}, 409, "already has a document named export-law"),
        ({"title": "  "}, 422, "title of one line"),
        ({"title": "two\nlines"}, 422, "title of one line"),
        ({"kind": "treaty"}, 422, "kind of document"),
        ({"language": "Russian!"}, 422, "such as ru or en"),
        ({"message": " "}, 422, "Write a message"),
        ({"name": "draft.pdf"}, 422, "Only .docx, .md and .txt"),
        ({"body": b""}, 422, "The file is empty"),
        ({"body": b"\xff\xfe bad"}, 422, "not UTF-8 text"),
        ({"body": b"x" * (SMALL_BODY + 1)}, 413, "larger than"),
        ({"body": TRACKED, "name": "d.docx"}, 422, "1 insertion(s) and 0 deletion(s)"),
        ({"body": b"%PDF-1.7\n", "name": "d.docx"}, 415, "is not a Word document"),
    ],
)
def test_bad_input_shows_the_form_again_and_writes_nothing(
    web_world: WebWorld, fields: dict[str, Any], status: int, said: str
) -> None:
    own = web_world.page("own")
    before = (refs(web_world), shares(web_world), stored_blobs(web_world))
    body = fields.pop("body", TEXT)
    name = fields.pop("name", "draft.md")
    answer = create(own, body, name, **{"title": "Мой проект", **fields})
    assert answer.status_code == status
    assert said in answer.text
    assert "Nothing was written." in answer.text
    if status != 413:  # a body over the limit is refused before the form is read
        # What was typed comes back in the form, beside the reason.
        assert 'value="Мой проект"' in answer.text or "title" in fields
        assert "Первый проект</textarea>" in answer.text or "message" in fields
    assert (refs(web_world), shares(web_world), stored_blobs(web_world)) == before
    assert web_world.world["own"].get(f"{API}/dual-use-law").status_code == 404


def test_the_existing_document_is_untouched_by_a_clashing_slug(web_world: WebWorld) -> None:
    before = web_world.world["own"].get(f"{API}/export-law/versions").json
    answer = create(web_world.page("head"), slug="export-law")
    assert answer.status_code == 409
    assert web_world.world["own"].get(f"{API}/export-law/versions").json == before


@pytest.mark.parametrize("kind", ["md", "docx"])
def test_a_state_holding_its_own_keys_gets_no_form_and_a_crafted_post_writes_nothing(
    web_world: WebWorld, kind: str
) -> None:
    hold_own_keys(web_world.app, "BLR")
    own = web_world.page("own")
    page = own.get(REVIEW).text
    assert NEW not in page
    assert "peerlex push FILE --party BLR --slug SLUG --key KEY" in page
    before = (refs(web_world), shares(web_world), stored_blobs(web_world))
    body = law_as_docx(LAW_V3) if kind == "docx" else TEXT
    answer = create(own, body, f"draft.{kind}")
    assert answer.status_code == 409
    assert "holds its own keys" in answer.text
    assert (refs(web_world), shares(web_world), stored_blobs(web_world)) == before


def test_the_form_is_each_state_owners_own(web_world: WebWorld) -> None:
    """A peer State's expert sees its own State's form only; organisers and observers none."""
    peer = web_world.page("peer").get(REVIEW).text
    assert "/states/KGZ/documents" in peer
    assert NEW not in peer
    for role in ("organiser", "observer"):
        assert "/states/" not in web_world.page(role).get(REVIEW).text


def test_the_form_needs_its_csrf_token(web_world: WebWorld) -> None:
    own = web_world.page("own")
    own.token = ""
    before = refs(web_world)
    assert create(own).status_code == 400
    assert refs(web_world) == before


def test_the_form_and_its_refusals_speak_russian(web_world: WebWorld) -> None:
    own = web_world.page("own")
    russian = {"Accept-Language": "ru"}
    page = own.get(REVIEW, headers=russian).text
    assert "Новый документ BLR" in page
    assert "Создать документ" in page
    answer = own.post(
        NEW,
        {"slug": "export-law", "title": "Т", "kind": "law", "language": "ru", "message": "м"},
        headers=russian,
    )
    assert answer.status_code == 409
    assert "У BLR уже есть документ с именем export-law" in answer.text
    assert "Ничего не записано." in answer.text
