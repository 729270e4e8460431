"""The web forms refuse what the API refuses: a comment carrying control or bidi characters."""

from __future__ import annotations

import pytest
from flask import Flask

from server.db import db_session
from server.models import Comment
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
