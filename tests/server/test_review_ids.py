"""A review id or slug in a URL that names nothing is a 404, whatever it looks like: never a
500 from parsing it or from the database refusing it (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Flask

from server.models import ID_MAX
from tests.server.review_fixtures import LAW_V1, ReviewWorld
from tests.server.web.pages import Page, csrf_of

# Digits str.isdigit() accepts and int() refuses or reads as something else, numbers past the
# id column's range (32 bits on PostgreSQL, 64 on SQLite), one past what int() reads at all,
# and strings that are no slug (PostgreSQL refuses NUL in text outright).
NOT_A_REVIEW = [
    "²",
    "١",
    "1" * 26,
    str(ID_MAX + 1),
    str(2**63),
    str(2**64),
    "9" * 5000,
    "0",
    "dushanbe\x002017",
    "Dushanbe-2017",
    "-1",
    "dushanbe-2017 ",
]


def _url(rid: str, tail: str = "") -> str:
    return f"/api/v1/reviews/{quote(rid, safe='')}{tail}"


@pytest.mark.parametrize("rid", NOT_A_REVIEW)
@pytest.mark.parametrize("tail", ["", "/shares", "/comments", "/approvals"])
def test_an_unknown_review_id_is_404(review_world: ReviewWorld, rid: str, tail: str) -> None:
    """Every review route answers 404 problem+json for an id or slug that names nothing."""
    answer = review_world["organiser"].get(_url(rid, tail))
    assert answer.status_code == 404, (answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.mimetype == "application/problem+json"


@pytest.mark.parametrize("rid", NOT_A_REVIEW)
def test_an_unknown_review_id_is_404_for_writes_too(review_world: ReviewWorld, rid: str) -> None:
    """A PATCH names the same review as a GET: 404, and nothing changes."""
    answer = review_world["organiser"].patch(_url(rid), json={"state": "agreement"})
    assert answer.status_code == 404
    assert review_world["organiser"].get(review_world.url()).json["state"] == "open"


def test_the_review_is_found_by_its_id_and_its_slug(review_world: ReviewWorld) -> None:
    """The lookup still finds what exists, by either name (and by an id with leading zeros)."""
    by_slug = review_world["organiser"].get(review_world.url()).json
    by_id = review_world["organiser"].get(_url(str(by_slug["id"]))).json
    padded = review_world["organiser"].get(_url(f"00{by_slug['id']}")).json
    assert by_id == by_slug == padded


@pytest.mark.parametrize("comment_id", [ID_MAX + 1, 2**63, 10**30])
def test_a_comment_id_past_the_column_range_is_404(
    review_world: ReviewWorld, comment_id: int
) -> None:
    """A comment id no column can hold names no comment."""
    answer = review_world["peer"].patch(
        review_world.url(f"/comments/{comment_id}"), json={"status": "resolved"}
    )
    assert answer.status_code == 404, answer.get_data(as_text=True)[:300]


def test_a_reply_to_a_comment_id_past_the_range_is_refused(review_world: ReviewWorld) -> None:
    """parent is checked against the id range before any lookup: 422 naming the field."""
    version = review_world.push(LAW_V1)
    assert review_world.share(version).status_code == 201
    answer = review_world["peer"].post(
        review_world.url("/comments"), json={"body": "Agreed.", "parent": 10**30}
    )
    assert answer.status_code == 422
    assert "parent" in answer.json["errors"]


@pytest.mark.parametrize("query", ["after=" + "9" * 30, "size=" + "9" * 30, "review=x%00y"])
def test_audit_queries_past_the_range_are_refused(review_world: ReviewWorld, query: str) -> None:
    """The audit log's numeric and review filters: 422, never a database error."""
    answer = review_world["organiser"].get(f"/api/v1/audit?{query}")
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]


@pytest.mark.parametrize("rid", ["²", "1" * 26, str(2**63), "dushanbe\x002017"])
def test_the_review_page_of_an_unknown_id_is_404(
    app: Flask, review_world: ReviewWorld, rid: str
) -> None:
    """The web pages use the same lookup: a 404 page, not a 500."""
    page = Page(app.test_client())
    assert page.sign_in("organiser@unrcpd.example").status_code == 302
    page.token = csrf_of(page.get("/reviews/dushanbe-2017").text)  # signing in renews it
    for url in (f"/reviews/{quote(rid, safe='')}", f"/reviews/{quote(rid, safe='')}/comments"):
        answer = page.get(url) if not url.endswith("comments") else page.post(url, {"body": "x"})
        assert answer.status_code == 404, (url, answer.status_code)


@pytest.mark.parametrize("slug", ["new", "2018", "0", "1"])
def test_a_slug_a_url_would_read_otherwise_is_refused(review_world: ReviewWorld, slug: str) -> None:
    """`new` is a page under /reviews/ and digits name a review by id: no review takes either,
    whichever client asks (the pages refuse it through the same service)."""
    refused = review_world["organiser"].post(
        "/api/v1/reviews", json={"slug": slug, "title": "T", "states": ["KGZ"]}
    )
    assert refused.status_code == 422
    assert refused.json["type"].endswith("reserved-slug")
    assert refused.json["errors"] == {"slug": [refused.json["detail"]]}
    assert [r["slug"] for r in review_world["organiser"].get("/api/v1/reviews").json] == [
        "dushanbe-2017"
    ]
