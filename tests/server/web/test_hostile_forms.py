"""The web forms refuse what the API refuses: a comment carrying control or bidi characters, an
uploaded file that is not UTF-8 text, a wrong base, a form without its CSRF token."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from server.db import db_session
from server.models import Comment, MfaFactor
from tests.server.web.pages import DOC, Page, WebWorld
from tests.support.docx_files import zip_bomb

API_DOC = "/api/v1/parties/BLR/documents/export-law"


@pytest.mark.parametrize("body", ["Why\x1b[2J?", "Why\u202e?", "Why\x9b?", "Why\r?"])
def test_a_comment_form_with_control_characters_is_refused(
    app: Flask, web_world: WebWorld, body: str
) -> None:
    """422 with the form kept for correction and the reason given; nothing is stored."""
    page = web_world.page("peer")
    answer = page.post(
        "/reviews/dushanbe-2017/comments",
        {
            "party": "BLR",
            "slug": "export-law",
            "version": web_world.versions[2],
            "quote": "Лицензия",
            "body": body,
            "next": DOC,
        },
    )
    assert answer.status_code == 422
    assert "control or bidirectional formatting characters" in answer.text
    with app.app_context():
        assert db_session().query(Comment).count() == 0


@pytest.mark.parametrize("label", ["phone\x1b[2J", "phone\u202e", "phone\r\nSet-Cookie: x"])
def test_an_authenticator_label_with_control_characters_is_refused(
    app: Flask, web_world: WebWorld, label: str
) -> None:
    page = web_world.page("head")
    answer = page.post("/account/security/authenticator", {"label": label})
    assert answer.status_code == 422
    assert "the label" in answer.text
    with app.app_context():
        assert db_session().query(MfaFactor).count() == 0


def test_an_authenticator_label_is_shown_as_text(web_world: WebWorld) -> None:
    page = web_world.page("head")
    label = '<script>alert(1)</script>"><b>'
    assert page.post("/account/security/authenticator", {"label": label}).status_code == 200
    shown = page.get("/account/security").text
    assert label not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;b&gt;" in shown


def versions_of(web_world: WebWorld) -> list[str]:
    listed = web_world.world["own"].get("/api/v1/parties/BLR/documents/export-law/versions")
    return [v["commit"] for v in listed.json]


def upload(page: Page, base: str, body: bytes, name: str = "law.txt", **fields: str) -> Any:
    form = {"base": base, "message": "Новая редакция", "file": (io.BytesIO(body), name), **fields}
    return page.post(DOC + "/versions", form, content_type="multipart/form-data")


@pytest.mark.parametrize(
    ("body", "name", "said"),
    [
        (b"\xd0\x97\xd0\xb0\xff\xfe", "law.txt", "not UTF-8 text"),
        ("Закон".encode("cp1251"), "law.md", "not UTF-8 text"),
        (b"Law\x00 text", "law.txt", "NUL bytes"),
        ("Law text".encode("utf-16"), "law.txt", "NUL bytes"),
        (b"#!/bin/sh\n", "law.sh", "Only .docx, .md and .txt"),
        (b"", "law.md", "empty"),
    ],
)
def test_an_upload_that_is_not_text_is_refused_and_writes_nothing(
    web_world: WebWorld, body: bytes, name: str, said: str
) -> None:
    before = versions_of(web_world)
    answer = upload(web_world.page("own"), before[0], body, name)
    assert answer.status_code == 422
    assert said in answer.text
    assert "Nothing was written" in answer.text
    assert versions_of(web_world) == before


@pytest.mark.parametrize(
    ("base", "status", "said"),
    [
        ("", 422, "no version to base"),
        ("--upload-pack=touch /tmp/x", 422, "no version to base"),
        ("0" * 40, 422, "0000000000000000000000000000000000000000"),
    ],
)
def test_an_upload_on_a_wrong_base_is_refused(
    web_world: WebWorld, base: str, status: int, said: str
) -> None:
    before = versions_of(web_world)
    answer = upload(web_world.page("own"), base, "Статья 1. Текст.\n".encode())
    assert answer.status_code == status
    assert said in answer.text
    assert versions_of(web_world) == before


def test_an_upload_without_message_or_csrf_token_writes_nothing(web_world: WebWorld) -> None:
    page = web_world.page("own")
    before = versions_of(web_world)
    answer = upload(page, before[0], "Статья 1. Текст.\n".encode(), message="  ")
    assert answer.status_code == 422
    assert "Write a message" in answer.text
    forged = page.client.post(
        DOC + "/versions",
        data={
            "base": before[0],
            "message": "forged",
            "file": (io.BytesIO(b"Forged text\n"), "law.md"),
        },
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400
    shared = page.client.post(
        DOC + "/shares", data={"version": before[1], "review": "dushanbe-2017"}
    )
    assert shared.status_code == 400
    assert versions_of(web_world) == before
    assert len(web_world.world["own"].get("/api/v1/reviews/dushanbe-2017/shares").json) == 2


def test_a_zip_bomb_named_docx_is_refused_before_it_unpacks(web_world: WebWorld) -> None:
    before = versions_of(web_world)
    answer = upload(web_world.page("own"), before[0], zip_bomb(), "law.docx")
    assert answer.status_code in (413, 422)
    assert "Nothing was written" in answer.text
    assert versions_of(web_world) == before
    assert web_world.world["own"].get(API_DOC + "/attachments").json == []
