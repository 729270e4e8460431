"""The HTML redline: escaped text, no scripts, ids, moves, renumbering and warnings shown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from repo_store.diff import diff_texts
from server.redline.render import render_html

OLD = """Article 1. Scope

(1) This Law applies to exports of dual-use goods.

Article 2. Licensing

(1) An export requires a licence.

Article 3. Transit

(1) Transit requires a permit.
"""

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "</style><script>alert(1)</script>",
    "&lt;script&gt;",
]


class Collector(HTMLParser):
    """Collect the tags, attributes and text a browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Collector:
    collector = Collector()
    collector.feed(page)
    collector.close()
    return collector


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize("side", ["old", "new", "both", "labels"])
def test_hostile_text_never_reaches_the_page_unescaped(payload: str, side: str) -> None:
    old = OLD.replace("dual-use goods", payload) if side in ("old", "both") else OLD
    new = OLD.replace("a licence", payload) if side in ("new", "both") else OLD
    title = payload if side == "labels" else "Law on export control"
    page = render_html(diff_texts(old, new), title=title, old_label=payload, new_label=payload)
    found = parse(page)
    assert {tag for tag, _ in found.tags} <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "p",
        "ins",
        "del",
        "section",
        "ul",
        "li",
        "code",
        "main",
        "div",
        "span",
    }
    for _, attrs in found.tags:
        assert not any(name.startswith("on") or name == "src" for name in attrs)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert payload in "".join(found.text) or payload.startswith("&")


def test_page_is_self_contained_and_marks_changes() -> None:
    new = OLD.replace("Article 3. Transit", "Article 4. Transit").replace(
        "Article 2. Licensing", "Article 2. Terms\n\n(1) Terms are new.\n\nArticle 3. Licensing"
    )
    new = new.replace("a licence", "an export licence")
    page = render_html(diff_texts(OLD, new), title="Law", old_label="v1", new_label="v2", lang="en")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert '<meta charset="utf-8">' in page
    assert "<style>" in page
    assert "<script" not in page
    assert "<link" not in page
    assert 'id="new-art_3__para_1"' in page
    assert "<del> a</del><ins> an export</ins>" in page
    assert "renumbered, was Article 2" in page
    assert 'class="block op-insert kind-article"' in page


def test_moved_provision_says_where_it_came_from() -> None:
    start = OLD.index("Article 1.")
    end = OLD.index("Article 2.")
    new = OLD[end:] + "\n" + OLD[start:end]
    page = render_html(diff_texts(OLD, new), title="Law", old_label="v1", new_label="v2")
    assert "op-move" in page
    assert "moved from Article 1" in page or "moved from Article 2" in page


def test_bidi_controls_are_warned_about_and_shown_inert() -> None:
    new = OLD.replace("a permit", "a \u202epermit")
    page = render_html(diff_texts(OLD, new), title="Law", old_label="v1", new_label="v2")
    warnings = page[page.index('class="warnings"') : page.index("<main>")]
    assert "U+202E" in warnings
    assert "RIGHT-TO-LEFT OVERRIDE" in warnings
    assert "\u202e" not in page
    assert re.search(r'<span class="bidi" title="RIGHT-TO-LEFT OVERRIDE">U\+202E</span>', page)


def test_unknown_language_tag_is_not_written_raw() -> None:
    page = render_html(
        diff_texts(OLD, OLD), title="t", old_label="a", new_label="b", lang='en" onload="x'
    )
    assert '<html lang="und">' in page
