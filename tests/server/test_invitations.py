"""Invitations over the API: who may invite whom, listing, revoking, and the one-time link."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from server.db import db_session
from server.link_models import Invitation
from server.model_base import utcnow
from server.models import AuditEntry, User
from tests.server.review_fixtures import ReviewWorld
from tests.server.web.pages import Page, csrf_of
from tests.support.accounts import PASSWORD

URL = "/api/v1/invitations"
NEW = "delegate@kgz.example"


def invite(
    world: ReviewWorld, who: str, party: str = "KGZ", role: str = "expert", **more: Any
) -> Any:
    return world[who].post(URL, json={"email": NEW, "party": party, "role": role, **more})


def written(app: Flask) -> tuple[object, ...]:
    """Users, invitations and the audit log's writes: what a refused request must leave as it
    was (a refusal itself is recorded, as a denied attempt)."""
    with app.app_context():
        session = db_session()
        rows = session.execute(
            select(Invitation.id, Invitation.used_at, Invitation.revoked_at).order_by(Invitation.id)
        ).all()
        return (
            session.scalar(select(func.count()).select_from(User)),
            tuple(map(tuple, rows)),
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome != "denied")
            ),
        )


def accept(app: Flask, url: str, password: str = PASSWORD, again: str | None = None) -> Any:
    path = url.removeprefix("http://localhost")
    page = Page(app.test_client())
    shown = page.get(path)
    page.token = csrf_of(shown.text if shown.status_code == 200 else page.get("/sign-in").text)
    return page.post(path, {"password": password, "password2": again or password}), page


@pytest.mark.parametrize(
    ("who", "party", "role"),
    [
        ("admin", "KGZ", "expert"),
        ("admin", "UZB", "head"),
        ("admin", "OSCE", "organiser"),
        ("admin", "GOE", "observer"),
        ("organiser", "KGZ", "expert"),
        ("organiser", "TJK", "head"),
    ],
)
def test_allowed_invitations(
    app: Flask, review_world: ReviewWorld, who: str, party: str, role: str
) -> None:
    answer = invite(review_world, who, party, role)
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["url"].startswith("http://localhost/invitations/")
    token = body["url"].rsplit("/", 1)[1]
    assert len(token) == 43
    assert (body["email"], body["party"], body["role"]) == (NEW, party, role)
    with app.app_context():
        stored = db_session().get(Invitation, body["id"])
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert stored.expires_at - stored.created_at == timedelta(days=7)
        actions = list(db_session().scalars(select(AuditEntry.action)))
    assert "invitation.create" in actions
    assert token not in str(body["id"])


@pytest.mark.parametrize(
    ("who", "party", "role", "status"),
    [
        ("organiser", "UZB", "expert", 403),  # not in its review
        ("organiser", "KGZ", "organiser", 403),  # only experts and heads
        ("organiser", "GOE", "observer", 403),  # an observer of its review: not a State
        ("other_organiser", "KGZ", "expert", 403),  # organises no open review
        ("own", "BLR", "expert", 403),
        ("head", "BLR", "expert", 403),
        ("observer", "GOE", "observer", 403),
        ("anonymous", "KGZ", "expert", 401),
        ("admin", "NOPE", "expert", 422),
        ("admin", "KGZ", "organiser", 422),  # role does not fit a State
        ("admin", "UNRCPD", "head", 422),
        ("admin", "KGZ", "admin", 422),
        ("admin", "kgz", "expert", 422),
    ],
)
def test_refused_invitations_write_nothing(
    app: Flask, review_world: ReviewWorld, who: str, party: str, role: str, status: int
) -> None:
    before = written(app)
    answer = invite(review_world, who, party, role)
    assert answer.status_code == status, answer.json
    assert answer.mimetype == "application/problem+json"
    assert written(app) == before


def test_organiser_invites_only_while_its_review_is_open(
    app: Flask, review_world: ReviewWorld
) -> None:
    moved = review_world["organiser"].patch(review_world.url(""), json={"state": "agreement"})
    assert moved.status_code == 200, moved.json
    assert invite(review_world, "organiser").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not an email", "party": "KGZ", "role": "expert"},
        {"email": "a\u202e@kgz.example", "party": "KGZ", "role": "expert"},
        {"email": NEW, "party": "KGZ"},
        {"email": NEW, "party": "KGZ", "role": "expert", "extra": 1},
        {"email": NEW, "party": "../KGZ", "role": "expert"},
        {"email": NEW * 30, "party": "KGZ", "role": "expert"},
        [],
    ],
)
def test_bad_bodies_are_422(app: Flask, review_world: ReviewWorld, body: Any) -> None:
    before = written(app)
    answer = review_world["admin"].post(URL, json=body)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert written(app) == before


def test_existing_account_or_pending_invitation_is_a_conflict(
    app: Flask, review_world: ReviewWorld
) -> None:
    taken = review_world["admin"].post(
        URL, json={"email": "Expert@KGZ.example", "party": "KGZ", "role": "expert"}
    )
    assert taken.status_code == 409
    assert invite(review_world, "admin").status_code == 201
    before = written(app)
    assert invite(review_world, "organiser").status_code == 409
    assert written(app) == before


def test_listing_shows_what_the_caller_may_see(app: Flask, review_world: ReviewWorld) -> None:
    mine = invite(review_world, "organiser").json
    other = invite(review_world, "admin", email="x@uzb.example", party="UZB").json
    listed = review_world["admin"].get(URL).json["invitations"]
    assert [i["id"] for i in listed] == [mine["id"], other["id"]]
    assert "url" not in listed[0]
    assert listed[0]["invited_by"] == "organiser@unrcpd.example"
    own = review_world["organiser"].get(URL).json["invitations"]
    assert [i["id"] for i in own] == [mine["id"]]
    assert review_world["other_organiser"].get(URL).json["invitations"] == []
    assert review_world["own"].get(URL).json["invitations"] == []


def test_revoke(app: Flask, review_world: ReviewWorld) -> None:
    made = invite(review_world, "organiser").json
    for who in ("other_organiser", "own", "observer"):
        assert review_world[who].delete(f"{URL}/{made['id']}").status_code == 404
    for missing in ("999999", "99999999999999999999", "0"):
        assert review_world["admin"].delete(f"{URL}/{missing}").status_code == 404
    assert review_world["organiser"].delete(f"{URL}/{made['id']}").status_code == 200
    assert review_world["organiser"].delete(f"{URL}/{made['id']}").status_code == 409
    assert review_world["admin"].get(URL).json["invitations"] == []
    answer, _ = accept(app, made["url"])
    assert answer.status_code == 404
    assert "This invitation link does not work" in answer.text


def test_accepting_creates_the_member_once(app: Flask, review_world: ReviewWorld) -> None:
    made = invite(review_world, "organiser", role="head").json
    answer, page = accept(app, made["url"])
    assert answer.status_code == 303
    assert page.get("/reviews").status_code == 200
    with app.app_context():
        user = db_session().scalar(select(User).where(User.email == NEW))
        assert user is not None
        assert [(m.party.code, m.role) for m in user.memberships] == [("KGZ", "head")]
        assert not user.is_admin
    assert review_world["organiser"].delete(f"{URL}/{made['id']}").status_code == 409
    before = written(app)
    again, _ = accept(app, made["url"])
    assert again.status_code == 404
    assert written(app) == before


def _expire(app: Flask) -> None:
    with app.app_context():
        session = db_session()
        session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()


@pytest.mark.parametrize("wrong", ["expired", "altered", "truncated", "revoked"])
def test_spoilt_links_write_nothing(app: Flask, review_world: ReviewWorld, wrong: str) -> None:
    made = invite(review_world, "admin").json
    url = made["url"]
    if wrong == "expired":
        _expire(app)
    elif wrong == "altered":
        url = url[:-1] + ("A" if url[-1] != "A" else "B")
    elif wrong == "truncated":
        url = url[:-1]
    else:
        assert review_world["admin"].delete(f"{URL}/{made['id']}").status_code == 200
    before = written(app)
    answer, _ = accept(app, url)
    assert answer.status_code == 404
    assert "This invitation link does not work" in answer.text
    assert written(app) == before
