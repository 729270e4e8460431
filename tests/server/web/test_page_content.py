"""What the pages show: escaped text, visible bidi controls, two languages, strict headers."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from server.db import db_session
from server.models import Comment, User
from server.services import comments
from server.web.blueprint import PAGE_CSP
from tests.server.web.pages import DOC, WebWorld, csrf_of

MARKUP = '<script>alert("x")</script> \'q\' "dq"'
HOSTILE = MARKUP + " \u202eevil\u202c"


def _hostile_world(web_world: WebWorld) -> str:
    """A shared version whose title carries markup and quotes, and its text bidi controls too
    (a title refuses them; a document's text keeps what its authors wrote)."""
    world = web_world.world
    text = f"# Закон\n\nСтатья 1. Общие положения\n\nТекст {HOSTILE} конец.\n"
    answer = world["own"].put(
        "/api/v1/parties/BLR/documents/export-law",
        json={"content": text, "message": MARKUP, "base": world.versions[-1], "title": MARKUP},
    )
    assert answer.status_code == 200, answer.json
    version: str = answer.json["version"]["commit"]
    world.versions.append(version)
    assert world.share(version).status_code == 201
    upload = world["own"].post(
        "/api/v1/parties/BLR/documents/export-law/attachments",
        query_string={"name": '<img src=x onerror=alert(1)>"annex".txt'},
        data=b"annex",
        content_type="text/plain",
    )
    assert upload.status_code == 201, upload.json
    return version


def _inert(html: str) -> None:
    assert "<script>alert" not in html
    assert "\u202e" not in html
    assert "\u202c" not in html


def test_hostile_text_renders_inert_and_visible(web_world: WebWorld) -> None:
    version = _hostile_world(web_world)
    peer = web_world.page("peer")
    posted = peer.post(
        "/reviews/dushanbe-2017/comments",
        {
            "party": "BLR",
            "slug": "export-law",
            "version": version,
            "quote": "Текст <script>",
            "body": '<script>alert("c")</script> "quoted" \'single\'',
            "next": DOC,
        },
    )
    assert posted.status_code == 302
    for url in (DOC, DOC + f"/redline?to={version}", DOC + f"/redline?to={version}&view=side"):
        html = peer.get(url).text
        _inert(html)
        assert "&lt;script&gt;alert(" in html
        assert "U+202E" in html
        assert 'class="bidi"' in html
        assert "&#34;quoted&#34;" in html
        assert "&#39;single&#39;" in html
    html = peer.get(DOC).text
    assert "&lt;img src=x onerror=alert(1)&gt;&#34;annex&#34;.txt" in html
    assert "<img" not in html
    assert "Invisible direction control" in peer.get(DOC + f"/redline?to={version}").text
    _inert(peer.get("/reviews/dushanbe-2017").text)


def test_a_bidi_control_in_a_stored_comment_is_shown_not_obeyed(
    app: Flask, web_world: WebWorld
) -> None:
    v3 = web_world.versions[2]
    with app.test_request_context():
        user = db_session().query(User).filter_by(email="expert@kgz.example").one()
        made = comments.create_comment(
            user,
            "dushanbe-2017",
            {"party": "BLR", "slug": "export-law", "version": v3, "quote": "двадцати", "body": "x"},
        )
        stored = db_session().get(Comment, made.comment.id)
        assert stored is not None
        stored.body = "abc \u202edcba\u202c <b>bold</b>"  # e.g. written before the rule existed
        db_session().commit()
    html = web_world.page("own").get(DOC).text
    _inert(html)
    assert "U+202E" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def peer_comments(web_world: WebWorld, quote: str, body: str) -> Any:
    """KGZ's expert sends the comment form on BLR's third version."""
    form = {"party": "BLR", "slug": "export-law", "version": web_world.versions[2]}
    return web_world.page("peer").post(
        "/reviews/dushanbe-2017/comments", {**form, "quote": quote, "body": body, "next": DOC}
    )


def test_a_bidi_control_in_a_new_comment_is_refused_with_the_text_kept(
    web_world: WebWorld,
) -> None:
    answer = peer_comments(web_world, quote="двадцати", body="right\u202eleft")
    assert answer.status_code == 422
    assert "body" in answer.text
    assert 'name="quote"' in answer.text
    assert "двадцати" in answer.text


def test_a_quote_that_is_not_in_the_version_is_explained(web_world: WebWorld) -> None:
    answer = peer_comments(web_world, quote="нет такого текста", body="Мой комментарий")
    assert answer.status_code == 422
    assert "does not occur" in answer.text
    assert "Мой комментарий" in answer.text


def test_pages_carry_a_strict_policy_and_are_not_cached(web_world: WebWorld) -> None:
    peer = web_world.page("peer")
    for url in ("/sign-in", "/reviews", DOC, DOC + "/redline", "/reviews/nope"):
        answer = peer.get(url)
        assert answer.headers["Content-Security-Policy"] == PAGE_CSP, url
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert " style=" not in answer.text
        assert "<script>" not in answer.text
    css = peer.get("/assets/peerlex.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    css.close()
    api = peer.get("/api/v1/reviews")
    assert api.headers["Content-Security-Policy"] != PAGE_CSP


def test_every_form_carries_a_csrf_token(web_world: WebWorld) -> None:
    page = web_world.page("own")
    page.post(
        "/reviews/dushanbe-2017/comments",
        {
            "party": "BLR",
            "slug": "export-law",
            "version": web_world.versions[2],
            "quote": "двадцати",
            "body": "Замечание",
            "next": DOC,
        },
    )
    for url in ("/reviews", "/reviews/dushanbe-2017", DOC, DOC + "/redline"):
        html = page.get(url).text
        assert html.count('method="post"') == html.count('name="csrf_token"'), url


def test_language_follows_the_browser_and_the_switch(web_world: WebWorld) -> None:
    page = web_world.page("peer")
    russian = page.get("/reviews/dushanbe-2017", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in russian.text
    assert "Мои обзоры" in russian.text
    english = page.get("/reviews/dushanbe-2017", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in english.text
    assert "My reviews" in english.text
    switch = page.get("/language/ru?next=/reviews")
    assert switch.status_code == 302
    assert switch.headers["Location"] == "/reviews"
    chosen = page.get("/reviews", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in chosen.text
    assert page.get("/language/ru?next=//evil.example").headers["Location"] == "/"
    assert page.get("/language/de").status_code == 404


def test_dates_follow_the_readers_locale(web_world: WebWorld) -> None:
    page = web_world.page("peer")
    page.get("/language/ru")
    russian = page.get(DOC).text
    page.get("/language/en")
    english = page.get(DOC).text
    months_ru = ("янв.", "февр.", "мар.", "апр.", "мая", "июн.", "июл.", "авг.", "сент.", "окт.")
    assert any(m in russian for m in (*months_ru, "нояб.", "дек."))
    months_en = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov")
    assert any(f"{m} " in english for m in (*months_en, "Dec"))


def test_sign_out_ends_the_session(web_world: WebWorld) -> None:
    page = web_world.page("peer")
    token = csrf_of(page.get("/reviews").text)
    assert page.client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert page.get("/reviews").status_code == 302


def test_headings_read_as_headings_and_moves_say_where_from(web_world: WebWorld) -> None:
    page = web_world.page("peer")
    first, last = web_world.versions[0], web_world.versions[-1]
    redline = DOC + f"/redline?from={first}&to={last}"
    for url in (redline, redline + "&view=side"):
        english = page.get(url, headers={"Accept-Language": "en"}).text
        # The title of the law is a heading, without the Markdown marks it was written with.
        assert re.search(r'<h3 class="block[^"]*kind-heading"[^>]*>.*?Закон об экспортном', english)
        assert "# Закон" not in english
        # "Таможенные органы…" left Статья 4 for Статья 2 (3): said in the law's own words.
        assert "moved from Статья 4" in english
        russian = page.get(url, headers={"Accept-Language": "ru"}).text
        assert "перемещено из: Статья 4" in russian
        for html in (english, russian):
            notes = re.findall(r'<span class="note">([^<]*)</span>', html)
            assert notes
            assert not any(re.search(r"art_\d|__|\bp\d", note) for note in notes), notes
    document = page.get(DOC + f"?version={last}").text
    assert re.search(r'<h3 class="block kind-heading" id="block-h1"', document)
    assert '<span class="text">Закон об экспортном контроле</span></h3>' in document
    assert "# Закон" not in document
