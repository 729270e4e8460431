"""Invitations on the web: the inviters' page (form, link shown once, revoking) and the
invitation link's page (a password, then the account; a spoilt link writes nothing)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.app import create_app
from server.config import Config
from server.db import db_session
from server.link_models import Invitation
from server.models import AuditEntry, User
from server.services import invitations
from tests.server.web.pages import Page, WebWorld, csrf_of
from tests.support.accounts import PASSWORD, add_party, add_user

NEW = "delegate@kgz.example"
LINK = re.compile(
    r'id="invitation-link" type="text" readonly value="(http://localhost/invitations/[\w-]{43})"'
)


def written(app: Flask) -> tuple[object, ...]:
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


def make(page: Page, email: str = NEW, party: str = "KGZ", role: str = "expert") -> Any:
    return page.post("/invitations", {"email": email, "party": party, "role": role})


def link_of(answer: Any) -> str:
    found = LINK.search(answer.text)
    assert found is not None, answer.text
    return found.group(1).removeprefix("http://localhost")


def open_link(app: Flask, path: str) -> tuple[Page, Any]:
    page = Page(app.test_client())
    shown = page.get(path)
    page.token = csrf_of(shown.text if shown.status_code == 200 else page.get("/sign-in").text)
    return page, shown


@pytest.mark.parametrize("role", ["admin", "organiser"])
def test_inviter_makes_a_link_shown_once(app: Flask, web_world: WebWorld, role: str) -> None:
    page = web_world.page(role)
    form = page.get("/invitations")
    assert form.status_code == 200
    assert 'href="/invitations"' in form.text
    made = make(page)
    assert made.status_code == 201
    path = link_of(made)
    listed = page.get("/invitations").text
    assert NEW in listed
    assert path.rsplit("/", 1)[1] not in listed
    invitee, shown = open_link(app, path)
    assert shown.status_code == 200
    assert NEW in shown.text
    assert "KGZ" in shown.text
    answer = invitee.post(path, {"password": PASSWORD, "password2": PASSWORD})
    assert answer.status_code == 303
    assert invitee.get("/reviews").status_code == 200
    assert NEW not in page.get("/invitations").text


def test_organiser_form_offers_its_states_and_delegate_roles(web_world: WebWorld) -> None:
    text = web_world.page("organiser").get("/invitations").text
    assert re.findall(r'<option value="([A-Z]+)"', text) == ["BLR", "KGZ", "TJK"]
    assert re.findall(r'<option value="([a-z]+)"', text) == ["expert", "head"]


@pytest.mark.parametrize(
    ("who", "form", "status", "message"),
    [
        ("organiser", {"party": "UZB"}, 403, "You may not invite to this party"),
        ("organiser", {"role": "organiser"}, 403, "You may not invite to this party"),
        ("admin", {"email": "nobody"}, 422, "That is not an email address."),
        ("admin", {"email": "a\u202e@kgz.example"}, 422, "That is not an email address."),
        ("admin", {"party": "NOPE"}, 422, "There is no such party."),
        ("admin", {"party": "UNRCPD"}, 422, "This role does not fit this party."),
        ("admin", {"role": "admin"}, 422, "This role does not fit this party."),
        ("admin", {"email": "expert@kgz.example"}, 409, "An account with this email exists"),
    ],
)
def test_bad_invitation_forms(
    app: Flask, web_world: WebWorld, who: str, form: dict[str, str], status: int, message: str
) -> None:
    page = web_world.page(who)
    before = written(app)
    answer = make(page, **form)
    assert answer.status_code == status
    assert message in answer.text
    assert written(app) == before


def test_revoking_from_the_page(app: Flask, web_world: WebWorld) -> None:
    page = web_world.page("organiser")
    path = link_of(make(page))
    with app.app_context():
        invitation_id = db_session().scalar(select(Invitation.id))
    assert (
        web_world.page("other_organiser").post(f"/invitations/{invitation_id}/revoke").status_code
        == 404
    )
    revoked = page.post(f"/invitations/{invitation_id}/revoke")
    assert revoked.status_code == 303
    assert page.post(f"/invitations/{invitation_id}/revoke").status_code == 409
    before = written(app)
    invitee, shown = open_link(app, path)
    assert shown.status_code == 404
    assert "This invitation link does not work" in shown.text
    assert invitee.post(path, {"password": PASSWORD, "password2": PASSWORD}).status_code == 404
    assert written(app) == before


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"password2": PASSWORD + "!"}, "The two passwords differ."),
        ({"password": "short", "password2": "short"}, "Choose a stronger password"),
        ({"password": "delegate1234", "password2": "delegate1234"}, "Choose a stronger password"),
        ({"password": "", "password2": ""}, "Choose a stronger password"),
        ({"password": ""}, "The two passwords differ."),
    ],
)
def test_bad_password_forms(
    app: Flask, web_world: WebWorld, form: dict[str, str], message: str
) -> None:
    path = link_of(make(web_world.page("admin")))
    invitee, _ = open_link(app, path)
    before = written(app)
    answer = invitee.post(path, {"password": PASSWORD, "password2": PASSWORD, **form})
    assert answer.status_code == 400
    assert message in answer.text
    assert written(app) == before
    assert invitee.post(path, {"password": PASSWORD, "password2": PASSWORD}).status_code == 303


def test_accepting_needs_the_csrf_token(app: Flask, web_world: WebWorld) -> None:
    path = link_of(make(web_world.page("admin")))
    client = app.test_client()
    assert client.get(path).status_code == 200
    before = written(app)
    assert client.post(path, data={"password": PASSWORD, "password2": PASSWORD}).status_code == 400
    assert written(app) == before


@pytest.fixture
def mfa_app(config: Config) -> Iterator[Flask]:
    application = create_app(dataclasses.replace(config, require_mfa="roles"))
    yield application
    application.extensions["peerlex.db"].engine.dispose()


def test_a_head_enrols_a_second_factor_at_once(mfa_app: Flask) -> None:
    add_party(mfa_app, "KGZ")
    add_user(mfa_app, "admin@peerlex.example", None, "admin")
    with mfa_app.test_request_context():
        admin = db_session().scalar(select(User).where(User.is_admin))
        assert admin is not None
        url = invitations.invite(admin, NEW, "KGZ", "head", "http://localhost").url
    path = url.removeprefix("http://localhost")
    invitee, _ = open_link(mfa_app, path)
    answer = invitee.post(path, {"password": PASSWORD, "password2": PASSWORD})
    assert answer.headers["Location"] == "/account/security"
    assert "/account/security" in invitee.get("/reviews").headers.get("Location", "")


def test_inviting_and_revoking_need_the_csrf_token(app: Flask, web_world: WebWorld) -> None:
    page = web_world.page("admin")
    path = link_of(make(page))
    with app.app_context():
        invitation_id = db_session().scalar(select(Invitation.id))
    before = written(app)
    client = page.client
    form = {"email": "other@kgz.example", "party": "KGZ", "role": "expert"}
    assert client.post("/invitations", data=form).status_code == 400
    assert client.post("/invitations", data={**form, "csrf_token": "forged"}).status_code == 400
    assert client.post(f"/invitations/{invitation_id}/revoke").status_code == 400
    assert written(app) == before
    assert open_link(app, path)[1].status_code == 200


@pytest.mark.parametrize(
    "form",
    [
        {"email": "x@kgz.example\r\nBcc: y@evil.example"},
        {"email": "<script>@kgz.example"},
        {"email": "x" * 3000 + "@kgz.example"},
        {"party": "../KGZ"},
        {"party": "KGZ\x00"},
        {"role": "expert\x00"},
        {"role": "x" * 3000},
    ],
)
def test_hostile_invitation_forms_write_nothing(
    app: Flask, web_world: WebWorld, form: dict[str, str]
) -> None:
    page = web_world.page("admin")
    before = written(app)
    answer = make(page, **form)
    assert answer.status_code == 422
    assert 'class="error"' in answer.text
    assert "<script>@" not in answer.text
    assert written(app) == before
