"""The web forms refuse what the API refuses: a comment carrying control or bidi characters."""

from __future__ import annotations

import pytest
from flask import Flask

from server.db import db_session
from server.models import Comment, MfaFactor
from tests.server.web.pages import DOC, WebWorld


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
