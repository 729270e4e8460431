"""Opening a review from the browser: the form offers the parties that exist, opens the review
as `POST /api/v1/reviews` does, and refuses bad input with a message, writing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.db import db_session
from server.models import AuditEntry, Review, ReviewParticipant
from tests.server.web.pages import Page, WebWorld

NEW = "/reviews/new"


def written(app: Flask) -> tuple[object, ...]:
    with app.app_context():
        session = db_session()
        return (
            tuple(session.scalars(select(Review.slug).order_by(Review.id))),
            session.scalar(select(func.count()).select_from(ReviewParticipant)),
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome != "denied")
            ),
        )


def open_review(page: Page, **change: Any) -> Any:
    form: dict[str, Any] = {
        "slug": "bishkek-2018",
        "title": "Бишкек 2018",
        "states": ["KGZ", "TJK"],
        "organisers": ["OSCE"],
        "observers": ["GOE"],
    }
    form.update(change)
    return page.post(NEW, form)


def test_the_form_offers_the_parties_that_exist(web_world: WebWorld) -> None:
    page = web_world.page("organiser")
    assert f'href="{NEW}"' in page.get("/reviews").text
    form = page.get(NEW)
    assert form.status_code == 200
    for code in ("BLR", "KGZ", "TJK", "UZB"):
        assert f'name="states" value="{code}"' in form.text
        assert f'name="organisers" value="{code}"' not in form.text
    for code in ("OSCE", "GOE"):
        assert f'name="organisers" value="{code}">' in form.text
        assert f'name="observers" value="{code}"' in form.text
    # The opener's own organisation: an organiser always (ticked, fixed), never an observer.
    assert 'name="organisers" value="UNRCPD" checked disabled>' in form.text
    assert 'name="observers" value="UNRCPD"' not in form.text
    assert "Your organisation, UNRCPD, is always among the organisers." in form.text
    assert f'href="{NEW}"' not in web_world.page("own").get("/reviews").text


def test_an_organiser_opens_a_review(app: Flask, web_world: WebWorld) -> None:
    page = web_world.page("organiser")
    made = open_review(page)
    assert made.status_code == 303
    assert made.headers["Location"] == "/reviews/bishkek-2018#desk"
    shown = page.get("/reviews/bishkek-2018").text
    assert "Бишкек 2018" in shown
    assert "The review is open." in shown
    assert 'id="desk-KGZ"' in shown
    assert 'id="desk-TJK"' in shown
    assert 'id="desk-BLR"' not in shown
    # The same review the API answers, with the opener among its organisers.
    api = web_world.world["organiser"].get("/api/v1/reviews/bishkek-2018").json
    assert (api["states"], api["organisers"], api["observers"]) == (
        ["KGZ", "TJK"],
        ["OSCE", "UNRCPD"],
        ["GOE"],
    )
    assert api["state"] == "open"
    # The other organisation's organiser sees it; a State outside it does not.
    assert web_world.page("other_organiser").get("/reviews/bishkek-2018").status_code == 200
    assert web_world.page("own").get("/reviews/bishkek-2018").status_code == 404
    with app.app_context():
        actions = db_session().scalars(select(AuditEntry.action)).all()
        assert "review.create" in actions


BAD_FORMS = [
    ({"slug": "Bishkek 2018"}, 422, "The short name is 1 to 63 small Latin letters"),
    ({"slug": ""}, 422, "The short name is 1 to 63 small Latin letters"),
    ({"slug": "-x"}, 422, "The short name is 1 to 63 small Latin letters"),
    ({"slug": "../etc"}, 422, "The short name is 1 to 63 small Latin letters"),
    ({"slug": "x" * 64}, 422, "The short name is 1 to 63 small Latin letters"),
    ({"slug": "new"}, 422, "This short name is taken by a page address"),
    ({"slug": "2018"}, 422, "This short name is taken by a page address"),
    ({"slug": "dushanbe-2017"}, 409, "A review with this short name exists already."),
    ({"title": ""}, 422, "Give the review a title of one line"),
    ({"title": "one\ntwo"}, 422, "Give the review a title of one line"),
    ({"title": "x" * 301}, 422, "Give the review a title of one line"),
    ({"title": "Bishkek\u202e 2018"}, 422, "Give the review a title of one line"),
    ({"title": "Bishkek\x1b[2J"}, 422, "Give the review a title of one line"),
    ({"slug": "bishkek\x00"}, 422, "The short name is 1 to 63 small Latin letters"),
    ({"states": []}, 422, "Choose at least one participating State"),
    ({"states": ["XYZ"]}, 422, "XYZ is not a State known here."),
    ({"states": ["OSCE"]}, 422, "OSCE is not a State known here."),
    ({"states": ["-rf"]}, 422, "Choose at least one participating State"),
    ({"organisers": ["BLR"]}, 422, "BLR is not an organisation known here."),
    ({"observers": ["NOPE"]}, 422, "NOPE is not an organisation known here."),
    ({"observers": ["OSCE"]}, 422, "A party takes part in one role only: OSCE is chosen twice."),
    ({"states": ["KGZ"] * 201}, 422, "Choose at least one participating State"),
]


@pytest.mark.parametrize(("change", "status", "message"), BAD_FORMS)
def test_bad_input_says_why_and_writes_nothing(
    app: Flask, web_world: WebWorld, change: dict[str, Any], status: int, message: str
) -> None:
    page = web_world.page("organiser")
    before = written(app)
    answer = open_review(page, **change)
    assert answer.status_code == status, answer.text
    assert message in answer.text
    assert "The review was not opened" in answer.text
    assert written(app) == before
    # The form comes back with what was typed, to correct it.
    if "title" not in change:
        assert 'value="Бишкек 2018"' in answer.text


@pytest.mark.parametrize(
    "role", ["own", "head", "peer", "observer", "outsider", "admin", "anonymous"]
)
def test_only_organisers_open_reviews(app: Flask, web_world: WebWorld, role: str) -> None:
    page = web_world.page(role)
    before = written(app)
    expected = 302 if role == "anonymous" else 404
    assert page.get(NEW).status_code == expected
    assert open_review(page).status_code == expected
    assert written(app) == before


def test_the_form_needs_its_csrf_token(app: Flask, web_world: WebWorld) -> None:
    page = web_world.page("organiser")
    before = written(app)
    page.token = ""
    assert open_review(page).status_code == 400
    assert written(app) == before


def test_a_title_is_shown_as_text(web_world: WebWorld) -> None:
    page = web_world.page("organiser")
    title = '<script>alert(1)</script>"><b>'
    assert open_review(page, title=title).status_code == 303
    shown = page.get("/reviews/bishkek-2018").text
    assert title not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
