"""Every page × every role: the same answers as the API, 404 for what one may not see."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from server.db import db_session
from server.models import User
from tests.server.review_fixtures import LAW_V3
from tests.server.web.pages import DOC, Page, WebWorld, csrf_of, links_to

PARTICIPANTS = ("own", "head", "peer", "peer_head", "third", "organiser", "observer")
OUTSIDERS = ("outsider", "other_organiser", "admin")
OWNERS = ("own", "head")
INVITERS = ("organiser", "other_organiser", "admin")
ORGANISERS = ("organiser", "other_organiser")
ROLES = (*PARTICIPANTS, *OUTSIDERS)
API_DOC = "/api/v1/parties/BLR/documents/export-law"
FACTOR_FORM = re.compile(r'action="/account/security/factors/(\d+)/remove"')


def expect(allowed: tuple[str, ...], role: str) -> int:
    return 200 if role in allowed else 404


PAGES = [
    ("/reviews", ROLES),
    ("/reviews/dushanbe-2017", PARTICIPANTS),
    (DOC, PARTICIPANTS),
    (DOC + "?version={v1}", PARTICIPANTS),
    (DOC + "?version={v3}", PARTICIPANTS),
    (DOC + "?version={v2}", OWNERS),
    (DOC + "/redline", PARTICIPANTS),
    (DOC + "/redline?from={v1}&to={v3}", PARTICIPANTS),
    (DOC + "/redline?from={v1}&to={v3}&view=side", PARTICIPANTS),
    (DOC + "/redline?from={v1}&to={v2}", OWNERS),
    (DOC + "/redline?from={v2}&to={v3}", OWNERS),
    ("/reviews/dushanbe-2017/documents/BLR/no-such-law", ()),
    ("/reviews/dushanbe-2017/documents/KGZ/export-law", ()),
    ("/reviews/no-such-review", ()),
    ("/account/security", ROLES),
    ("/account/confirm?next=/reviews", ROLES),
    # Everyone's own page: it shows only the signed-in user's keys.
    ("/account/security-keys", ROLES),
    # A set-up link once an administrator exists: the refusal page, whoever asks.
    ("/setup/" + "A" * 43, ()),
    ("/setup/not-a-token", ()),
    # Administrators and organisers invite; an unknown invitation link is refused to all.
    ("/invitations", INVITERS),
    ("/invitations/" + "A" * 43, ()),
    # Organisers open reviews; the page's address is no review's.
    ("/reviews/new", ORGANISERS),
    # Administration: the administrators' alone.
    ("/admin/parties", ("admin",)),
    ("/admin/users", ("admin",)),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role(web_world: WebWorld, role: str) -> None:
    page = web_world.page(role)
    v1, v2, v3 = web_world.versions
    for url, allowed in PAGES:
        answer = page.get(url.format(v1=v1, v2=v2, v3=v3))
        assert answer.status_code == expect(allowed, role), (url, role)
        assert answer.mimetype == "text/html", url
        if answer.status_code == 404:
            assert "BLR" not in answer.text or url.startswith("/reviews/dushanbe-2017/documents")
        if role not in OWNERS and answer.status_code == 200:
            assert v2 not in answer.text, f"{url} shows the unshared version to {role}"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/reviews",
        "/reviews/dushanbe-2017",
        DOC,
        DOC + "/redline",
        "/account/security-keys",
        "/invitations",
    ],
)
def test_anonymous_is_sent_to_sign_in(web_world: WebWorld, url: str) -> None:
    answer = web_world.page(None).get(url)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/sign-in")


def test_sign_in_comes_back_to_the_page_asked_for(web_world: WebWorld) -> None:
    page = web_world.page(None)
    assert page.get(DOC).headers["Location"] == "/sign-in?next=" + DOC
    page.token = csrf_of(page.get("/sign-in").text)
    answer = page.post(
        "/sign-in",
        {"email": "expert@kgz.example", "password": "correct horse battery staple", "next": DOC},
    )
    assert answer.headers["Location"] == DOC


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_sign_in_never_sends_elsewhere(web_world: WebWorld, target: str) -> None:
    page = web_world.page(None)
    page.token = csrf_of(page.get("/sign-in").text)
    answer = page.post(
        "/sign-in",
        {"email": "expert@kgz.example", "password": "correct horse battery staple", "next": target},
    )
    assert answer.headers["Location"] == "/reviews"


def test_wrong_password_and_missing_csrf_are_refused(web_world: WebWorld) -> None:
    page = web_world.page(None)
    assert page.sign_in("expert@kgz.example", "wrong").status_code == 401
    assert page.get("/reviews").status_code == 302
    forged = web_world.app.test_client().post(
        "/sign-in", data={"email": "expert@kgz.example", "password": "x"}
    )
    assert forged.status_code == 400


def test_a_peer_never_sees_an_unshared_version(web_world: WebWorld) -> None:
    """Not in the versions table, the redline picker, nor through a crafted URL."""
    v1, v2, v3 = web_world.versions
    peer = web_world.page("peer")
    for url in (DOC, DOC + "/redline", DOC + f"/redline?from={v1}&to={v3}&view=side"):
        text = peer.get(url).text
        assert v3 in text
        assert v2 not in text
        assert v2[:12] not in text
    # A version one may not see is not found; one that is no commit id is bad input.
    for crafted, status in (
        (DOC + f"?version={v2}", 404),
        (DOC + f"/redline?to={v2}", 404),
        (DOC + f"/redline?from={v2}", 404),
        (DOC + f"?version={v2[:12]}", 400),
        (DOC + "?version=" + "0" * 40, 404),
    ):
        answer = peer.get(crafted)
        assert answer.status_code == status, crafted
        assert "Статья" not in answer.text
    own = web_world.page("own").get(DOC + f"?version={v2}")
    assert own.status_code == 200
    assert v2[:12] in own.text


def quote_form(
    web_world: WebWorld, body: str, quote: str = "двадцати рабочих дней"
) -> dict[str, str]:
    return {
        "party": "BLR",
        "slug": "export-law",
        "version": web_world.versions[2],
        "quote": quote,
        "body": body,
        "next": DOC,
    }


@pytest.mark.parametrize("role", ROLES)
def test_commenting_needs_a_part_in_the_review(web_world: WebWorld, role: str) -> None:
    page = web_world.page(role)
    answer = page.post("/reviews/dushanbe-2017/comments", quote_form(web_world, "Почему?"))
    assert answer.status_code == (302 if role in PARTICIPANTS else 404)


def test_comment_status_follows_the_services_rules(web_world: WebWorld) -> None:
    peer, third, own = (web_world.page(r) for r in ("peer", "third", "own"))
    made = peer.post("/reviews/dushanbe-2017/comments", quote_form(web_world, "Почему?"))
    comment = made.headers["Location"].rsplit("#comment-", 1)[1]
    url = f"/reviews/dushanbe-2017/comments/{comment}/status"
    assert third.post(url, {"status": "resolved"}).status_code == 403
    assert peer.post(url, {"status": "accepted"}).status_code == 403
    assert own.post(url, {"status": "accepted"}).status_code == 302
    assert peer.post(url, {"status": "bogus"}).status_code == 400
    assert web_world.page("outsider").post(url, {"status": "resolved"}).status_code == 404
    assert own.client.post(url, data={"status": "open"}).status_code == 400  # no CSRF token


def test_organiser_moves_state_heads_approve_and_bundle_is_built(web_world: WebWorld) -> None:
    own, head, organiser, peer = (web_world.page(r) for r in ("own", "head", "organiser", "peer"))
    state_url = "/reviews/dushanbe-2017/state"
    assert own.post(state_url, {"state": "agreement"}).status_code == 403
    assert organiser.post(state_url, {"state": "agreement"}).status_code == 302
    v3 = web_world.versions[2]
    approval = {"party": "BLR", "slug": "export-law", "version": v3}
    assert own.post("/reviews/dushanbe-2017/approvals", approval).status_code == 403
    assert peer.post("/reviews/dushanbe-2017/bundle").status_code == 403
    assert organiser.post("/reviews/dushanbe-2017/bundle").status_code == 409
    assert head.post("/reviews/dushanbe-2017/approvals", approval).status_code == 302
    page = organiser.get("/reviews/dushanbe-2017")
    assert "approval missing" not in page.text
    built = organiser.post("/reviews/dushanbe-2017/bundle")
    assert built.status_code == 302
    page = organiser.get("/reviews/dushanbe-2017")
    assert "/api/v1/reviews/dushanbe-2017/bundle" in page.text
    assert "ssh-keygen -Y verify -f allowed_signers -I unrcpd@parties.peerlex" in page.text
    download = organiser.get("/api/v1/reviews/dushanbe-2017/bundle")
    assert download.status_code == 200
    assert download.mimetype == "application/x-tar"
    download.close()
    assert peer.get("/api/v1/reviews/dushanbe-2017/bundle").status_code == 403
    assert "/api/v1/reviews/dushanbe-2017/bundle" not in peer.get("/reviews/dushanbe-2017").text


def factor_on(page: Page) -> str:
    """The id of the (one) factor the user's security page offers to remove."""
    found = FACTOR_FORM.search(page.get("/account/security").text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_manages_its_own_second_factors_only(web_world: WebWorld, role: str) -> None:
    """Anyone may add an authenticator app; a factor that is not one's own is not found."""
    page = web_world.page(role)
    assert page.post("/account/security/authenticator", {"label": role}).status_code == 200
    assert page.post("/account/security/authenticator/confirm", {"code": "x"}).status_code == 422
    other = web_world.page("observer" if role != "observer" else "admin")
    assert other.post("/account/security/authenticator", {"label": "theirs"}).status_code == 200
    theirs = f"/account/security/factors/{factor_on(other)}/remove"
    assert page.post(theirs, {"code": "123456"}).status_code == 404
    mine = f"/account/security/factors/{factor_on(page)}/remove"
    assert page.post(mine).status_code == 303
    assert page.post("/account/confirm", {"code": "123456"}).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_invitation_forms_for_every_role(web_world: WebWorld, role: str) -> None:
    """Only inviters reach the form; a refused form of theirs says why; no one revokes an
    invitation they cannot see."""
    page = web_world.page(role)
    form = {"email": "new@uzb.example", "party": "UZB", "role": "expert"}
    made = page.post("/invitations", form)
    expected = {"admin": 201, "organiser": 403, "other_organiser": 403}.get(role, 404)
    assert made.status_code == expected, role
    assert page.post("/invitations/999999/revoke").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_new_review_form_for_every_role(web_world: WebWorld, role: str) -> None:
    """Organisers open reviews (their organisation among its organisers); no one else."""
    page = web_world.page(role)
    form = {"slug": f"bishkek-{role.replace('_', '-')}", "title": "Бишкек", "states": ["KGZ"]}
    expected = 303 if role in ORGANISERS else 404
    assert page.post("/reviews/new", form).status_code == expected, role
    assert page.post("/reviews/new", {**form, "slug": "new"}).status_code == (
        422 if role in ORGANISERS else 404
    )


@pytest.mark.parametrize("role", ROLES)
def test_desk_forms_for_every_role(web_world: WebWorld, role: str) -> None:
    """The review's organisers use the desk; its other participants see the review but may
    not (403); anyone else does not see the review (404)."""
    page = web_world.page(role)
    desk = "/reviews/dushanbe-2017"
    invitation = {"email": f"{role}-new@tjk.example", "party": "TJK", "role": "expert"}
    expected = 201 if role == "organiser" else 403 if role in PARTICIPANTS else 404
    assert page.post(desk + "/invitations", invitation).status_code == expected, role
    desk_shown = 'id="desk"' in page.get(desk).text
    assert desk_shown == (role == "organiser"), role
    # Building the bundle of an open review: the organiser is told to move it on first.
    expected = 409 if role == "organiser" else 403 if role in PARTICIPANTS else 404
    assert page.post(desk + "/bundle").status_code == expected, role


@pytest.mark.parametrize("role", ROLES)
def test_administration_forms_for_every_role(web_world: WebWorld, role: str) -> None:
    """Only an administrator reaches the administration forms; everyone else finds nothing."""
    page = web_world.page(role)
    with web_world.app.app_context():
        ids = {email: id_ for email, id_ in db_session().execute(select(User.email, User.id))}
    admin, observer = ids["admin@peerlex.example"], ids["observer@goe.example"]
    forms = [
        ("/admin/parties", {"code": "bad", "name": "x", "kind": "state"}, 400),
        ("/admin/parties/BLR/rename", {"name": ""}, 400),
        (f"/admin/users/{observer}/role", {"role": "boss"}, 400),
        (f"/admin/users/{admin}/disable", {}, 409),
        (f"/admin/users/{observer}/enable", {}, 303),
        (f"/admin/users/{observer}/reset-second-factor", {}, 303),
        (f"/admin/users/{observer}/end-sessions", {}, 303),
    ]
    for url, form, status in forms:
        answer = page.post(url, form)
        assert answer.status_code == (status if role == "admin" else 404), (url, role)


@pytest.mark.parametrize("url", ["/setup/" + "A" * 43, "/invitations/" + "A" * 43])
def test_anonymous_gets_the_link_refusal_not_the_sign_in(web_world: WebWorld, url: str) -> None:
    """The one-time links' pages are public: an unknown link is refused there, not redirected."""
    answer = web_world.page(None).get(url)
    assert answer.status_code == 404
    assert "does not work" in answer.text


def upload_form(web_world: WebWorld, text: str, base: str | None = None) -> dict[str, Any]:
    return {
        "base": base or web_world.versions[2],
        "message": "Сроки уточнены",
        "file": (io.BytesIO(text.encode()), "export-law.md"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_uploading_a_version_is_for_the_states_own_people(web_world: WebWorld, role: str) -> None:
    """Owners save (303 to the new version), other participants see the page but may not
    write (403), the rest do not see the document (404)."""
    page = web_world.page(role)
    answer = page.post(
        DOC + "/versions",
        upload_form(web_world, LAW_V3 + "\nСтатья 9. Новая.\n"),
        content_type="multipart/form-data",
    )
    assert answer.status_code == (303 if role in OWNERS else 403 if role in PARTICIPANTS else 404)
    versions = web_world.world["own"].get(f"{API_DOC}/versions").json
    assert len(versions) == (4 if role in OWNERS else 3), role
    if role in OWNERS:
        assert answer.headers["Location"].endswith("version=" + versions[0]["commit"])


@pytest.mark.parametrize("role", ROLES)
def test_starting_a_document_is_for_the_states_own_people(web_world: WebWorld, role: str) -> None:
    """Owners create it (303 to its page), other participants see the review but may not
    (403), the rest do not see the review (404); only the owners' answer writes anything."""
    page = web_world.page(role)
    form = {
        "slug": "new-law",
        "title": "Новый закон",
        "kind": "law",
        "language": "ru",
        "message": "Первый проект",
        "share": "on",
        "file": (io.BytesIO("Статья 1. Новая.\n".encode()), "new-law.md"),
    }
    answer = page.post(
        "/reviews/dushanbe-2017/states/BLR/documents", form, content_type="multipart/form-data"
    )
    assert answer.status_code == (303 if role in OWNERS else 403 if role in PARTICIPANTS else 404)
    created = web_world.world["own"].get("/api/v1/parties/BLR/documents/new-law")
    assert created.status_code == (200 if role in OWNERS else 404), role
    shares = web_world.world["own"].get("/api/v1/reviews/dushanbe-2017/shares").json
    assert ("new-law" in {s["slug"] for s in shares}) == (role in OWNERS)
    offered = (
        "/reviews/dushanbe-2017/states/BLR/documents" in page.get("/reviews/dushanbe-2017").text
    )
    assert offered == (role in OWNERS)


@pytest.mark.parametrize("role", ROLES)
def test_a_state_not_taking_part_has_no_new_document_form(web_world: WebWorld, role: str) -> None:
    """UZB's repository exists but UZB is no State of the review: not found for everyone."""
    answer = web_world.page(role).post("/reviews/dushanbe-2017/states/UZB/documents", {"slug": "x"})
    assert answer.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_sharing_from_the_document_page_is_for_the_states_own_people(
    web_world: WebWorld, role: str
) -> None:
    v2 = web_world.versions[1]
    page = web_world.page(role)
    answer = page.post(DOC + "/shares", {"version": v2, "review": "dushanbe-2017"})
    assert answer.status_code == (303 if role in OWNERS else 403 if role in PARTICIPANTS else 404)
    shares = web_world.world["own"].get("/api/v1/reviews/dushanbe-2017/shares").json
    assert (v2 in {s["version"] for s in shares}) == (role in OWNERS)


@pytest.mark.parametrize("role", ROLES)
def test_the_document_page_offers_authoring_to_owners_only(web_world: WebWorld, role: str) -> None:
    page = web_world.page(role)
    answer = page.get(DOC)
    if role not in PARTICIPANTS:
        assert answer.status_code == 404
        return
    assert (DOC + "/versions" in answer.text) == (role in OWNERS)
    assert (DOC + "/shares" in answer.text) == (role in OWNERS)
    docx = links_to(API_DOC, answer.text, "docx")
    assert docx == {"version": web_world.versions[2], "format": "docx"}


@pytest.mark.parametrize("role", ROLES)
def test_moving_a_review_on_for_every_role(web_world: WebWorld, role: str) -> None:
    """The review's organisers move it to agreement; its other participants see the review
    but may not (403); anyone else, an administrator included, does not see it (404)."""
    answer = web_world.page(role).post("/reviews/dushanbe-2017/state", {"state": "agreement"})
    expected = 302 if role == "organiser" else 403 if role in PARTICIPANTS else 404
    assert answer.status_code == expected, role


@pytest.mark.parametrize("role", [None, *ROLES])
def test_the_one_time_link_forms_refuse_an_unknown_link_to_everyone(
    web_world: WebWorld, role: str | None
) -> None:
    """Submitting the set-up or invitation form of a link that does not exist is refused with
    the page that says so, signed in or not, and makes no account."""
    page = web_world.page(role)
    if role is None:
        page.token = csrf_of(page.get("/sign-in").text)
    with web_world.app.app_context():
        accounts = db_session().execute(select(User.id)).all()
    form = {"email": "taker@kgz.example", "password": "x" * 16, "password2": "x" * 16}
    for url in ("/setup/" + "A" * 43, "/invitations/" + "A" * 43):
        answer = page.post(url, form)
        assert answer.status_code == 404, (url, role)
        assert "does not work" in answer.text, (url, role)
    with web_world.app.app_context():
        assert db_session().execute(select(User.id)).all() == accounts
