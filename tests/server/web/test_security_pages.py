"""The security page: enrolling an authenticator app, its recovery codes, removing a factor,
the enrolment gate on pages, and confirming it is you before approving (step-up)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from server.auth import ENROLMENT_ENDPOINTS
from server.config import Config
from server.db import db_session
from server.models import MfaFactor, UserSession, utcnow
from tests.server.test_mfa import rows
from tests.server.web.pages import Page, WebWorld, csrf_of
from tests.support.second_factor import away_from_a_step_edge, code_at, deployment, wrong_code_at

HEAD = "head@blr.example"
EXPERT = "expert@blr.example"
SECURITY = "/account/security"
ENROL = "/account/security/authenticator"
CONFIRM_APP = "/account/security/authenticator/confirm"
CONFIRM = "/account/confirm"
REVIEW = "/reviews/dushanbe-2017"
GATE_TEXT = "Your role needs a second factor before you can do anything else."
SECRET_RE = re.compile(r'<code class="secret" id="secret">([A-Z2-7 ]+)</code>')
RECOVERY_RE = re.compile(r"<li><code>([A-Z2-7-]+)</code></li>")


@pytest.fixture
def mfa_app(config: Config) -> Iterator[Flask]:
    """A deployment where heads must hold a second factor (experts need not)."""
    with deployment(config, "roles", [(HEAD, "BLR", "head"), (EXPERT, "BLR", "expert")]) as app:
        yield app


def signed_in(app: Flask, email: str) -> Page:
    """A browser signed in with a password alone (the user has no factor yet)."""
    page = Page(app.test_client())
    assert page.sign_in(email).status_code == 302
    page.token = csrf_of(page.get(SECURITY).text)
    return page


@dataclass(frozen=True)
class Enrolled:
    secret: str
    recovery_codes: list[str]


def start_enrolling(page: Page, label: str = "phone") -> str:
    """Add an authenticator app through the page; answers the secret it shows."""
    started = page.post(ENROL, {"label": label})
    assert started.status_code == 200, started.text
    found = SECRET_RE.search(started.text)
    assert found is not None, started.text
    return found.group(1).replace(" ", "")


def enrol_through_pages(page: Page, when: float) -> Enrolled:
    secret = start_enrolling(page)
    confirmed = page.post(CONFIRM_APP, {"code": code_at(secret, when)})
    assert confirmed.status_code == 200, confirmed.text
    return Enrolled(secret, RECOVERY_RE.findall(confirmed.text))


def factor_ids(app: Flask) -> list[int]:
    with app.app_context():
        return list(db_session().scalars(select(MfaFactor.id).order_by(MfaFactor.id)))


def verified_at(app: Flask) -> list[Any]:
    with app.app_context():
        return list(db_session().scalars(select(UserSession.verified_at).order_by(UserSession.id)))


# -- the enrolment gate --------------------------------------------------------------------------


def test_a_head_without_a_factor_is_led_to_the_security_page(mfa_app: Flask) -> None:
    page = Page(mfa_app.test_client())
    signed = page.sign_in(HEAD)
    assert signed.headers["Location"] == "/reviews"
    for url in ("/reviews", REVIEW, "/", "/account/confirm"):
        answer = page.get(url)
        assert answer.status_code == 303, url
        assert answer.headers["Location"] == SECURITY
    security = page.get(SECURITY)
    assert security.status_code == 200
    assert GATE_TEXT in security.text
    page.token = csrf_of(security.text)
    # A form elsewhere leads there too, and writes nothing.
    posted = page.post(REVIEW + "/comments", {"body": "x"})
    assert (posted.status_code, posted.headers["Location"]) == (303, SECURITY)
    # The ways out stay open; the API keeps its problem.
    assert page.get("/language/ru?next=/reviews").status_code == 302
    api = page.get("/api/v1/reviews")
    assert api.status_code == 403
    assert api.json["type"].endswith("/mfa-enrolment-required")
    enrol_through_pages(page, away_from_a_step_edge())
    assert page.get("/reviews").status_code == 200
    assert GATE_TEXT not in page.get(SECURITY).text
    assert page.post("/sign-out").headers["Location"] == "/sign-in"


def test_an_expert_who_need_not_enrol_is_not_led_anywhere(mfa_app: Flask) -> None:
    page = signed_in(mfa_app, EXPERT)
    assert page.get("/reviews").status_code == 200
    security = page.get(SECURITY)
    assert GATE_TEXT not in security.text
    assert "You have no second factor yet" in security.text


# -- enrol, confirm, recovery codes, remove ------------------------------------------------------


def test_enrol_confirm_see_the_codes_once_and_remove(mfa_app: Flask) -> None:
    now = away_from_a_step_edge()
    page = signed_in(mfa_app, EXPERT)
    started = page.post(ENROL, {"label": "phone"})
    assert '<svg width="' in started.text
    assert 'class="qr"' in started.text
    assert "data:" not in started.text
    shown = SECRET_RE.search(started.text)
    assert shown is not None
    groups = shown.group(1).split(" ")
    assert all(len(g) == 4 for g in groups[:-1])
    assert len("".join(groups)) == 32
    pending = page.get(SECURITY).text
    assert "pending: not confirmed with a code" in pending
    confirmed = page.post(CONFIRM_APP, {"code": code_at("".join(groups), now)})
    assert confirmed.status_code == 200
    codes = RECOVERY_RE.findall(confirmed.text)
    assert len(set(codes)) == 10
    assert "shown only on this page and never again" in confirmed.text
    assert confirmed.headers["Cache-Control"] == "no-store"
    security = page.get(SECURITY).text
    assert "confirmed" in security
    assert "pending" not in security
    assert "You have 10 unused recovery codes." in security
    assert codes[0] not in security
    [factor] = factor_ids(mfa_app)
    removed = page.post(
        f"/account/security/factors/{factor}/remove",
        {"code": code_at("".join(groups), now + 30)},
    )
    assert (removed.status_code, removed.headers["Location"]) == (303, SECURITY)
    assert "The second factor is removed." in page.get(SECURITY).text
    assert rows(mfa_app) == ((), ())


def test_a_recovery_code_removes_a_factor_and_a_pending_one_goes_without(mfa_app: Flask) -> None:
    now = away_from_a_step_edge()
    page = signed_in(mfa_app, EXPERT)
    enrolled = enrol_through_pages(page, now)
    start_enrolling(page, "tablet")
    confirmed_id, pending_id = factor_ids(mfa_app)
    assert page.post(f"/account/security/factors/{pending_id}/remove").status_code == 303
    used = page.post(
        f"/account/security/factors/{confirmed_id}/remove", {"code": enrolled.recovery_codes[0]}
    )
    assert used.status_code == 303
    assert factor_ids(mfa_app) == []


def test_the_last_factor_of_a_head_stays(mfa_app: Flask) -> None:
    now = away_from_a_step_edge()
    page = signed_in(mfa_app, HEAD)
    enrolled = enrol_through_pages(page, now)
    before = rows(mfa_app)
    [factor] = factor_ids(mfa_app)
    refused = page.post(
        f"/account/security/factors/{factor}/remove",
        {"code": code_at(enrolled.secret, now + 30)},
    )
    assert refused.status_code == 409
    assert "your role needs a second factor: enrol another before removing this one" in (
        refused.text
    )
    assert f'id="remove-error-{factor}"' in refused.text
    assert rows(mfa_app) == before


# -- bad input: a clear message, nothing written -------------------------------------------------


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("x" * 201, "the label is longer than 200 characters"),
        ("my\nphone", "the label"),
        ("phone\u202e", "the label"),
    ],
)
def test_a_bad_label_is_refused(mfa_app: Flask, label: str, message: str) -> None:
    page = signed_in(mfa_app, EXPERT)
    refused = page.post(ENROL, {"label": label})
    assert refused.status_code == 422
    assert message in refused.text
    assert 'id="label-error"' in refused.text
    assert rows(mfa_app) == ((), ())


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "9" * 65, "wrong"])
def test_a_bad_confirmation_code_shows_the_same_key_again(mfa_app: Flask, code: str) -> None:
    now = away_from_a_step_edge()
    page = signed_in(mfa_app, EXPERT)
    secret = start_enrolling(page)
    before = rows(mfa_app)
    refused = page.post(CONFIRM_APP, {"code": code or wrong_code_at(secret, now)})
    assert refused.status_code == 422
    assert 'id="code-error"' in refused.text
    again = SECRET_RE.search(refused.text)
    assert again is not None
    assert again.group(1).replace(" ", "") == secret
    assert rows(mfa_app) == before
    # The key shown again is the one that confirms.
    assert page.post(CONFIRM_APP, {"code": code_at(secret, now)}).status_code == 200


def test_confirming_with_nothing_pending_is_refused(mfa_app: Flask) -> None:
    page = signed_in(mfa_app, EXPERT)
    refused = page.post(CONFIRM_APP, {"code": "123456"})
    assert refused.status_code == 409
    assert "no authenticator is waiting to be confirmed" in refused.text
    assert rows(mfa_app) == ((), ())


def test_bad_removals_are_refused_and_write_nothing(mfa_app: Flask) -> None:
    now = away_from_a_step_edge()
    expert = signed_in(mfa_app, EXPERT)
    enrolled = enrol_through_pages(expert, now)
    [factor] = factor_ids(mfa_app)
    url = f"/account/security/factors/{factor}/remove"
    before = rows(mfa_app)
    for code in ("", wrong_code_at(enrolled.secret, now + 30), "x" * 65):
        refused = expert.post(url, {"code": code})
        assert refused.status_code == 422, code
        assert f'id="remove-error-{factor}"' in refused.text
    for other in (
        "/account/security/factors/999/remove",
        f"/account/security/factors/{2**63}/remove",
    ):
        assert expert.post(other, {"code": "123456"}).status_code == 404
    # Another user's factor is not found, and a form without its CSRF token is refused.
    head = signed_in(mfa_app, HEAD)
    assert head.post(url, {"code": code_at(enrolled.secret, now + 30)}).status_code == 404
    assert expert.client.post(url, data={"code": "123456"}).status_code == 400
    assert expert.client.post(ENROL, data={"label": "x"}).status_code == 400
    assert rows(mfa_app) == before


# -- confirming it is you (step-up) --------------------------------------------------------------


def age_sessions(app: Flask, minutes: int) -> None:
    with app.app_context():
        then = utcnow() - timedelta(minutes=minutes)
        db_session().execute(
            update(UserSession).values(created_at=then, last_seen_at=then, verified_at=then)
        )
        db_session().commit()


APPROVAL_FIELDS = ("party", "slug", "version")


def test_an_old_sign_in_approves_after_confirming_it_is_you(web_world: WebWorld) -> None:
    app = web_world.app
    now = away_from_a_step_edge()
    head = web_world.page("head")
    enrolled = enrol_through_pages(head, now)
    organiser = web_world.page("organiser")
    assert organiser.post(REVIEW + "/state", {"state": "agreement"}).status_code == 302
    approval = dict(zip(APPROVAL_FIELDS, ("BLR", "export-law", web_world.versions[2]), strict=True))
    confirm_link = "/account/confirm?next=/reviews/dushanbe-2017"
    assert confirm_link not in head.get(REVIEW).text
    age_sessions(app, 16)
    review = head.get(REVIEW).text
    assert "Your sign-in is older than 15 minutes" in review
    assert confirm_link in review
    refused = head.post(REVIEW + "/approvals", approval)
    assert refused.status_code == 403
    assert "need a sign-in of the last 15 minutes" in refused.text
    assert f'action="{confirm_link}"' in refused.text
    # A wrong code is refused and the session stays as old as it was.
    before = verified_at(app)
    wrong = head.post(confirm_link, {"code": wrong_code_at(enrolled.secret, now + 30)})
    assert wrong.status_code == 401
    assert "Wrong code, or a code used already." in wrong.text
    assert verified_at(app) == before
    confirmed = head.post(confirm_link, {"code": code_at(enrolled.secret, now + 30)})
    assert (confirmed.status_code, confirmed.headers["Location"]) == (303, REVIEW)
    assert "Your sign-in is older than 15 minutes" not in head.get(REVIEW).text
    assert head.post(REVIEW + "/approvals", approval).status_code == 302
    # The organiser, who holds no factor, is not asked.
    assert organiser.post(REVIEW + "/bundle").status_code == 302


def test_confirming_with_a_recovery_code_says_how_many_are_left(web_world: WebWorld) -> None:
    head = web_world.page("head")
    enrolled = enrol_through_pages(head, away_from_a_step_edge())
    age_sessions(web_world.app, 16)
    confirmed = head.post(
        CONFIRM + "?next=https://evil.example/", {"code": enrolled.recovery_codes[0]}
    )
    assert (confirmed.status_code, confirmed.headers["Location"]) == (303, "/reviews")
    assert "You used a recovery code: 9 are left." in head.get("/reviews").text


def test_the_confirm_page_of_someone_without_a_factor(web_world: WebWorld) -> None:
    page = web_world.page("own")
    shown = page.get(CONFIRM + "?next=/reviews")
    assert "You have no second factor, so there is nothing to confirm." in shown.text
    assert page.post(CONFIRM, {"code": "123456"}).status_code == 200


def test_every_endpoint_named_for_enrolment_exists(mfa_app: Flask) -> None:
    assert set(ENROLMENT_ENDPOINTS) <= set(mfa_app.view_functions)
