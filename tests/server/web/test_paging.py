"""A long document and its redline are read one page of blocks at a time, with links between
the pages; a page past the end is not found; a busy worker says so with Retry-After."""

from __future__ import annotations

import re
from contextlib import ExitStack
from html import unescape

from flask import Flask

from server.services.limits import RETRY_AFTER, WorkGate
from tests.server.review_fixtures import ReviewWorld
from tests.server.web.pages import DOC, WebWorld

BLOCK_RE = re.compile(r'<div class="block ')
LINK_RE = re.compile(r'<a rel="(prev|next)" href="([^"]+)"')


def law(articles: int, changed: int | None = None) -> str:
    return "".join(
        f"Статья {n}. Заголовок\n\n"
        f"Текст статьи {n}{' в новой редакции' if n == changed else ''}.\n\n"
        for n in range(1, articles + 1)
    )


def shared_long_law(world: ReviewWorld) -> tuple[str, str]:
    old = world.push(law(600))
    new = world.push(law(600, changed=590))
    for version in (old, new):
        assert world.share(version).status_code == 201
    return old, new


def links(html: str) -> dict[str, str]:
    return {rel: unescape(href) for rel, href in LINK_RE.findall(html)}


def test_a_long_document_is_shown_a_page_at_a_time(web_world: WebWorld) -> None:
    _, new = shared_long_law(web_world.world)
    reader = web_world.page("peer")
    first = reader.get(f"{DOC}?version={new}")
    assert first.status_code == 200
    assert len(BLOCK_RE.findall(first.text)) == 500
    assert "Page 1 of 3: blocks 1–500 of 1200" in first.text
    assert set(links(first.text)) == {"next"}
    second = reader.get(links(first.text)["next"])
    assert "Page 2 of 3" in second.text
    assert set(links(second.text)) == {"prev", "next"}
    last = reader.get(links(second.text)["next"])
    assert len(BLOCK_RE.findall(last.text)) == 200
    assert "Текст статьи 600." in last.text
    assert "Текст статьи 600." not in first.text
    assert reader.get(f"{DOC}?version={new}&page=4").status_code == 404
    assert reader.get(f"{DOC}?version={new}&page=x").status_code == 404


def test_a_long_redline_is_shown_a_page_at_a_time(web_world: WebWorld) -> None:
    old, new = shared_long_law(web_world.world)
    reader = web_world.page("peer")
    first = reader.get(f"{DOC}/redline?from={old}&to={new}&view=side")
    assert first.status_code == 200
    assert "Page 1 of 3" in first.text
    assert "<ins" not in first.text.split('class="redline')[1]
    last = reader.get(links(reader.get(links(first.text)["next"]).text)["next"])
    assert "Page 3 of 3" in last.text
    assert "в новой редакции" in last.text
    assert "view=side" in links(last.text)["prev"]
    # The counts are the whole comparison's, on every page.
    assert "1 changed" in first.text
    assert "1 changed" in last.text
    assert reader.get(f"{DOC}/redline?from={old}&to={new}&page=9").status_code == 404


def test_a_busy_worker_says_so_on_a_page(app: Flask, web_world: WebWorld) -> None:
    world = web_world.world
    old = world.push(law(5_000))
    new = world.push(law(5_000, changed=2))
    for version in (old, new):
        assert world.share(version).status_code == 201
    reader = web_world.page("peer")
    gate: WorkGate = app.extensions["peerlex.work_gate"]
    with ExitStack() as held:
        for _ in range(gate.slots):
            held.enter_context(gate.expensive("test"))
        busy = reader.get(f"{DOC}/redline?from={old}&to={new}")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == str(RETRY_AFTER)
        assert "busy" in busy.text
    answer = reader.get(f"{DOC}/redline?from={old}&to={new}")
    assert answer.status_code == 200
    assert "в новой редакции" in answer.text
