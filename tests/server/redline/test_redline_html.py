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


def test_markdown_headings_are_headings_without_their_marks() -> None:
    old = "# Закон об экспортном контроле\n\n## Глава 1\n\n" + OLD
    new = "# Закон об экспортном контроле\n\n### Глава 1. Общие положения\n\n" + OLD
    page = render_html(diff_texts(old, new), title="Закон", old_label="v1", new_label="v2")
    found = parse(page)
    tags = [tag for tag, _ in found.tags]
    # "#" is an h2 under the page's own h1, "###" two levels below it.
    assert {"h2", "h4"} <= set(tags)
    assert re.search(r'<h2 class="block op-equal kind-heading"[^>]*>Закон об экспортном', page)
    # The level changed: each side loses its own marks.
    assert re.search(r"<h4 [^>]*><del>Глава 1</del><ins>Глава 1. Общие положения</ins></h4>", page)
    assert "#" not in page[page.index("<main>") :]
    # A "#" inside the words of a heading is the document's and stays.
    page = render_html(
        diff_texts("# C# rules\n", "# C# rules apply\n"), title="t", old_label="a", new_label="b"
    )
    assert re.search(r"<h2 [^>]*>C# rules<ins> apply</ins></h2>", page)


def test_moved_paragraph_is_named_by_its_article_and_number_never_an_id() -> None:
    old = OLD.replace("(1) Transit requires a permit.", "(1) Transit requires a permit.\n\nA note.")
    new = old.replace("\n\n(1) An export requires a licence.", "").replace(
        "(1) Transit requires a permit.",
        "(1) Transit requires a permit.\n\n(2) An export requires a licence.",
    )
    diff = diff_texts(old, new)
    moved = [entry for entry in diff.blocks if entry.op == "move"]
    assert moved, [entry.op for entry in diff.blocks]
    page = render_html(diff, title="Law", old_label="v1", new_label="v2")
    assert "moved from Article 2 (1)" in page or "renumbered, was Article 2 (1)" in page
    notes = re.findall(r'<span class="note">([^<]*)</span>', page)
    assert not any("art_" in note or "__" in note for note in notes), notes


def test_note_marks_follow_their_quoted_words_or_end_the_block() -> None:
    new = OLD.replace("a licence", "an export licence")
    marks = {
        "art_2__para_1": [(1, "export  licence"), (2, "no such words")],
        "art_1__para_1": [(3, "dual-use")],
    }
    page = render_html(
        diff_texts(OLD, new), title="Law", old_label="v1", new_label="v2", notes=marks
    )
    ref = '<sup class="note-ref"><a href="#note-{0}" id="ref-{0}">{0}</a></sup>'
    assert f"<ins> an export</ins> licence{ref.format(1)}." in page
    assert f"licence{ref.format(1)}.{ref.format(2)}</div>" in page
    assert f"dual-use{ref.format(3)} goods" in page


def test_the_redlines_own_words_follow_the_readers_language() -> None:
    start = OLD.index("Article 1.")
    end = OLD.index("Article 2.")
    new = (OLD[end:] + "\n" + OLD[start:end]).replace("a permit", "a \u202epermit")
    diff = diff_texts(OLD, new)
    russian = render_html(diff, title="Law", old_label="v1", new_label="v2", ui="ru-RU")
    assert "перемещено из: Article 1" in russian or "перемещено из: Article 2" in russian
    assert "Предупреждения" in russian
    assert "moved from" not in russian
    english = render_html(diff, title="Law", old_label="v1", new_label="v2", ui="de")
    assert "moved from" in english
