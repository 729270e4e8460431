"""The organiser's desk on a review's page: per State what was shared and approved, inviting
the States' delegates, moving the review to agreement and closing it with the final bundle.
Each refusal says why on the page and writes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from server.db import db_session
from server.link_models import Invitation
from server.models import Approval, AuditEntry, Review, Share, User, UserSession, utcnow
from server.services.context import services
from tests.server.web.pages import Page, WebWorld, csrf_of
from tests.support.accounts import PASSWORD
from tests.support.second_factor import away_from_a_step_edge, code_at, enrol

REVIEW = "/reviews/dushanbe-2017"
INVITE = REVIEW + "/invitations"
LINK = re.compile(
    r'id="invitation-link" type="text" readonly value="http://localhost(/invitations/[\w-]{43})"'
)


def written(app: Flask) -> tuple[object, ...]:
    """Everything a desk form could write: rows, audit entries, the bundle file."""
    with app.app_context():
        session = db_session()

        def count(model: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

        states = tuple(session.scalars(select(Review.state).order_by(Review.id)))
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome != "denied")
        )
        bundles = sorted(p.name for p in services().config.bundles_dir.glob("*"))
        return (
            count(User),
            count(Invitation),
            count(Share),
            count(Approval),
            states,
            audited,
            tuple(bundles),
        )


def invite(page: Page, email: str, party: str = "KGZ", role: str = "expert") -> Any:
    return page.post(INVITE, {"email": email, "party": party, "role": role})


def test_the_desk_shows_each_state_shared_approved_and_missing(web_world: WebWorld) -> None:
    v1, v2, v3 = web_world.versions
    text = web_world.page("organiser").get(REVIEW).text
    for code in ("BLR", "KGZ", "TJK"):
        assert f'id="desk-{code}"' in text
        assert f'name="party" value="{code}"' in text
    blr = text[text.index('id="desk-BLR"') : text.index('id="desk-KGZ"')]
    assert "export-law" in blr
    assert v1[:12] in blr
    assert v3[:12] in blr
    assert v2[:12] not in blr
    assert "approval missing" in blr
    assert "1 approval(s) missing" in blr
    kgz = text[text.index('id="desk-KGZ"') : text.index('id="desk-TJK"')]
    assert "Nothing shared yet." in kgz


@pytest.mark.parametrize("role", ["own", "head", "peer", "peer_head", "third", "observer"])
def test_a_participant_who_does_not_organise_sees_no_desk(web_world: WebWorld, role: str) -> None:
    text = web_world.page(role).get(REVIEW).text
    assert 'id="desk"' not in text
    assert f'action="{INVITE}"' not in text


def test_the_organiser_invites_a_delegate_and_the_link_is_shown_once(
    app: Flask, web_world: WebWorld
) -> None:
    organiser = web_world.page("organiser")
    made = invite(organiser, "head2@kgz.example", role="head")
    assert made.status_code == 201
    found = LINK.search(made.text)
    assert found is not None, made.text
    path = found.group(1)
    page = organiser.get(REVIEW).text
    assert path.rsplit("/", 1)[1] not in page
    kgz = page[page.index('id="desk-KGZ"') : page.index('id="desk-TJK"')]
    assert "head2@kgz.example" in kgz
    with app.app_context():
        row = db_session().scalar(select(Invitation).where(Invitation.email == "head2@kgz.example"))
        assert row is not None
        assert (row.party.code, row.role) == ("KGZ", "head")
    # The invitee accepts through the invitations pages of the same service.
    invitee = Page(app.test_client())
    invitee.token = csrf_of(invitee.get(path).text)
    accepted = invitee.post(path, {"password": PASSWORD, "password2": PASSWORD})
    assert accepted.status_code == 303


BAD_INVITATIONS = [
    ({"email": "not-an-email"}, 422, "That is not an email address."),
    ({"party": "UZB"}, 422, "Choose one of the States taking part in this review."),
    ({"party": "XXX"}, 422, "Choose one of the States taking part in this review."),
    ({"party": "UNRCPD"}, 422, "Choose one of the States taking part in this review."),
    ({"party": "-x"}, 422, "Choose one of the States taking part in this review."),
    ({"role": "organiser"}, 403, "as experts or heads of delegation"),
    ({"role": "admin"}, 422, "Choose the role from the list"),
    ({"role": "chief"}, 422, "Choose the role from the list"),
    ({"email": "expert@kgz.example"}, 409, "An account with this email exists already."),
    ({"email": "x" * 3000}, 422, "That is not an email address."),
]


@pytest.mark.parametrize(("change", "status", "message"), BAD_INVITATIONS)
def test_a_bad_invitation_says_why_and_writes_nothing(
    app: Flask, web_world: WebWorld, change: dict[str, str], status: int, message: str
) -> None:
    organiser = web_world.page("organiser")
    before = written(app)
    form = {"email": "new@kgz.example", "party": "KGZ", "role": "expert", **change}
    answer = organiser.post(INVITE, form)
    assert answer.status_code == status, answer.text
    assert message in answer.text
    assert 'role="alert"' in answer.text
    assert LINK.search(answer.text) is None
    assert written(app) == before


def test_a_second_invitation_to_a_pending_email_is_refused(app: Flask, web_world: WebWorld) -> None:
    organiser = web_world.page("organiser")
    assert invite(organiser, "new@tjk.example", "TJK").status_code == 201
    before = written(app)
    again = invite(organiser, "new@tjk.example", "TJK", "head")
    assert again.status_code == 409
    assert "An invitation to this email is pending: revoke it first." in again.text
    assert written(app) == before


@pytest.mark.parametrize(
    ("role", "status"),
    [("own", 403), ("head", 403), ("observer", 403), ("peer", 403)]
    + [("outsider", 404), ("other_organiser", 404), ("admin", 404)],
)
def test_desk_forms_are_refused_to_all_but_the_organisers(
    app: Flask, web_world: WebWorld, role: str, status: int
) -> None:
    page = web_world.page(role)
    before = written(app)
    assert invite(page, "new@kgz.example").status_code == status
    assert page.post(REVIEW + "/state", {"state": "agreement"}).status_code == status
    assert page.post(REVIEW + "/bundle").status_code == status
    assert written(app) == before


def test_desk_forms_need_their_csrf_token(app: Flask, web_world: WebWorld) -> None:
    organiser = web_world.page("organiser")
    before = written(app)
    for url, data in (
        (INVITE, {"email": "new@kgz.example", "party": "KGZ", "role": "expert"}),
        (REVIEW + "/state", {"state": "agreement"}),
        (REVIEW + "/bundle", {}),
    ):
        assert organiser.client.post(url, data=data).status_code == 400
    assert written(app) == before


def test_bundle_before_agreement_says_to_move_first(app: Flask, web_world: WebWorld) -> None:
    organiser = web_world.page("organiser")
    before = written(app)
    refused = organiser.post(REVIEW + "/bundle")
    assert refused.status_code == 409
    assert "The review is still open: move it to agreement first." in refused.text
    assert written(app) == before


def test_agreement_then_the_bundle_names_what_is_missing_then_closes(
    app: Flask, web_world: WebWorld
) -> None:
    organiser, head = web_world.page("organiser"), web_world.page("head")
    v3 = web_world.versions[2]
    moved = organiser.post(REVIEW + "/state", {"state": "agreement"})
    assert moved.status_code == 302
    page = organiser.get(REVIEW).text
    assert "each head of delegation may now approve" in page
    # Invitations are made while a review is open: the forms are gone.
    assert f'action="{INVITE}"' not in page
    assert invite(organiser, "late@kgz.example").status_code == 403
    again = organiser.post(REVIEW + "/state", {"state": "agreement"})
    assert again.status_code == 409
    assert "The review has moved on already" in again.text
    before = written(app)
    refused = organiser.post(REVIEW + "/bundle")
    assert refused.status_code == 409
    assert f"BLR / export-law ({v3[:12]})" in refused.text
    assert "still need their head of delegation" in refused.text
    assert written(app) == before
    approval = {"party": "BLR", "slug": "export-law", "version": v3}
    assert head.post(REVIEW + "/approvals", approval).status_code == 302
    page = organiser.get(REVIEW).text
    blr = page[page.index('id="desk-BLR"') : page.index('id="desk-KGZ"')]
    assert "approved by head@blr.example" in blr
    assert "everything approved" in blr
    built = organiser.post(REVIEW + "/bundle")
    assert built.status_code == 302
    page = organiser.get(REVIEW).text
    assert "The final bundle is built" in page
    assert 'href="/api/v1/reviews/dushanbe-2017/bundle"' in page
    with app.app_context():
        assert db_session().scalar(select(Review.state)) == "closed"
    download = organiser.get("/api/v1/reviews/dushanbe-2017/bundle")
    assert download.status_code == 200
    assert download.data[257:262] == b"ustar"
    download.close()


def test_building_the_bundle_after_a_while_asks_for_the_second_factor(
    app: Flask, web_world: WebWorld
) -> None:
    # Signed in before the factor is enrolled, so the sign-in itself needs no code.
    organiser, head = web_world.page("organiser"), web_world.page("head")
    now = away_from_a_step_edge()
    enrolled = enrol(web_world.world["organiser"], now)
    assert organiser.post(REVIEW + "/state", {"state": "agreement"}).status_code == 302
    v3 = web_world.versions[2]
    approval = {"party": "BLR", "slug": "export-law", "version": v3}
    assert head.post(REVIEW + "/approvals", approval).status_code == 302
    with app.app_context():
        then = utcnow() - timedelta(minutes=16)
        db_session().execute(
            update(UserSession).values(created_at=then, last_seen_at=then, verified_at=then)
        )
        db_session().commit()
    assert "Your sign-in is older than 15 minutes" in organiser.get(REVIEW).text
    before = written(app)
    refused = organiser.post(REVIEW + "/bundle")
    assert refused.status_code == 403
    assert "need a sign-in of the last 15 minutes" in refused.text
    assert written(app) == before
    confirm = "/account/confirm?next=" + REVIEW
    assert organiser.post(confirm, {"code": code_at(enrolled.secret, now + 30)}).status_code == 303
    assert organiser.post(REVIEW + "/bundle").status_code == 302
