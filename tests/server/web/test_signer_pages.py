"""Who signed what, on the pages: a version's or an approval's signer, its key's fingerprint and
whether the server holds that key; and where a State that holds its own keys signs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from keys.protocol import APPROVAL_NAMESPACE, GIT_NAMESPACE
from repo_store.commits import Identity
from server.db import db_session
from server.models import Approval, Custody, Party, User
from server.services import approvals
from server.services.approvals import approval_signer
from server.services.context import services
from tests.server.review_fixtures import LAW_V3, USERS
from tests.server.web.pages import DOC, WebWorld
from tests.support.ssh_user_keys import fingerprint_of, new_key, public_line, ssh_sign

REVIEW = "/reviews/dushanbe-2017"
SERVER_HELD = "signed with the server-held key of BLR"
SERVER_HOLDS = "The server holds this key and signs with it for the State."
OWN_KEY = "signed by expert@blr.example with their own key"
NOT_HELD = "The server does not hold this key: it was used on its owner's own machine."


def register_key(world: WebWorld, role: str, tmp_path: Path) -> Path:
    """A fresh ssh-keygen key of the role's user, registered through the API."""
    private = new_key(tmp_path, f"{role}_key")
    answer = world.world[role].post("/api/v1/me/keys", json={"public_key": public_line(private)})
    assert answer.status_code == 201, answer.json
    return private


def push_signed_by(world: WebWorld, private: Path, content: str) -> str:
    """A version of BLR's law signed on the delegate's side with their own key, then shared."""
    email = USERS["own"][0]
    with world.app.app_context():
        store = services().store
        base = world.versions[-1]
        files = store.document_files("BLR", "export-law", content, {}, base=base)
        assert files is not None
        prepared = store.prepare_commit(
            "BLR",
            "export-law",
            files,
            author=Identity(email, email),
            committer_name="Party BLR",
            message="signed at the delegate's desk",
        )
        signature = ssh_sign(private, GIT_NAMESPACE, prepared.payload).read_text()
        version = store.write_signed(prepared, signature)
    world.versions.append(version)
    assert world.world.share(version).status_code == 201
    return version


def server_fingerprint(world: WebWorld, version: str) -> str:
    listed = world.world["own"].get("/api/v1/parties/BLR/documents/export-law/versions").json
    found = next(v for v in listed if v["commit"] == version)
    assert found["signature"]["held_by_server"] is True
    assert found["signature"]["signer"] is None
    fingerprint: str = found["signature"]["fingerprint"]
    assert fingerprint.startswith("SHA256:")
    return fingerprint


def test_a_version_signed_by_the_server_held_key_says_so(web_world: WebWorld) -> None:
    fingerprint = server_fingerprint(web_world, web_world.versions[-1])
    html = web_world.page("peer").get(DOC).text
    assert SERVER_HELD in html
    assert SERVER_HOLDS in html
    assert fingerprint in html
    assert OWN_KEY not in html


def test_a_version_signed_by_a_delegates_key_names_the_person_and_the_key(
    web_world: WebWorld, tmp_path: Path
) -> None:
    private = register_key(web_world, "own", tmp_path)
    version = push_signed_by(web_world, private, LAW_V3 + "\nСтатья 4. Вступление в силу\n")
    server_held = server_fingerprint(web_world, web_world.versions[-2])
    listed = web_world.world["peer"].get("/api/v1/parties/BLR/documents/export-law/versions")
    newest = listed.json[0]
    assert newest["commit"] == version
    assert newest["signature"] == {
        "status": "good",
        "fingerprint": fingerprint_of(private),
        "party": "BLR",
        "signer": USERS["own"][0],
        "held_by_server": False,
    }
    html = web_world.page("peer").get(DOC).text
    # The version shown (the newest shared) and every version in the list say whose key it was.
    assert html.count(OWN_KEY) == 2
    assert html.count(fingerprint_of(private)) == 2
    assert html.count(NOT_HELD) == 2
    assert html.count(SERVER_HELD) == 2
    assert html.count(server_held) == 2
    older = web_world.page("peer").get(DOC + f"?version={web_world.versions[0]}").text
    assert older.count(SERVER_HELD) == 3


def agree(web_world: WebWorld) -> None:
    moved = web_world.world["organiser"].patch(web_world.world.url(), json={"state": "agreement"})
    assert moved.status_code == 200, moved.json


def test_an_approval_by_the_server_held_key_shows_its_signer(web_world: WebWorld) -> None:
    agree(web_world)
    approval = {"party": "BLR", "slug": "export-law", "version": web_world.versions[-1]}
    made = web_world.world["head"].post(web_world.world.url("/approvals"), json=approval)
    assert made.status_code == 201, made.json
    check = made.json["signature_check"]
    assert (check["status"], check["held_by_server"], check["signer"]) == ("good", True, None)
    listed = web_world.world["peer"].get(web_world.world.url("/approvals")).json
    assert listed[0]["signature_check"] == check
    assert listed[0]["approved_by"] == "head@blr.example"
    html = web_world.page("peer").get(REVIEW).text
    section = html[html.index('id="approvals"') :]
    assert "good signature" in section
    assert SERVER_HELD in section
    assert check["fingerprint"] in section


def record_approval(app: Flask, version: str, private: Path) -> int:
    """An approval of BLR's law as a head makes it on their own machine: the statement the
    server drafts, signed with ssh-keygen, recorded."""
    with app.app_context():
        head = db_session().scalar(select(User).where(User.email == "head@blr.example"))
        assert head is not None
        asked = {"party": "BLR", "slug": "export-law", "version": version}
        draft = approvals.draft_approval(head, "dushanbe-2017", asked)
        signature = ssh_sign(private, APPROVAL_NAMESPACE, draft.statement).read_text()
        return approvals.record_approval(head, draft, signature).id


def test_an_approval_by_a_heads_own_key_names_the_head_and_the_key(
    web_world: WebWorld, tmp_path: Path
) -> None:
    private = register_key(web_world, "head", tmp_path)
    agree(web_world)
    approval_id = record_approval(web_world.app, web_world.versions[-1], private)
    with web_world.app.app_context():
        check = approval_signer(db_session().get_one(Approval, approval_id))
    assert (check.status, check.owner, check.held_by_server) == (
        "good",
        "head@blr.example",
        False,
    )
    assert check.fingerprint == fingerprint_of(private)
    html = web_world.page("observer").get(REVIEW).text
    section = html[html.index('id="approvals"') :]
    assert "signed by head@blr.example with their own key" in section
    assert fingerprint_of(private) in section
    assert NOT_HELD in section


def test_an_approval_signed_by_a_stray_key_is_shown_as_bad(
    web_world: WebWorld, tmp_path: Path
) -> None:
    stray = new_key(tmp_path, "stray")
    agree(web_world)
    record_approval(web_world.app, web_world.versions[-1], stray)
    html = web_world.page("peer").get(REVIEW).text
    section = html[html.index('id="approvals"') :]
    assert "BAD signature" in section
    assert fingerprint_of(stray) in section
    assert "This key was not one of BLR's keys at that time" in section
    assert SERVER_HELD not in section


def hold_own_keys(app: Flask, code: str) -> None:
    with app.app_context():
        party = db_session().scalar(select(Party).where(Party.code == code))
        assert party is not None
        party.custody = Custody.SELF
        db_session().commit()


def test_a_self_custody_states_pages_say_where_it_signs(web_world: WebWorld) -> None:
    assert "peerlex push" not in web_world.page("peer").get(DOC).text
    hold_own_keys(web_world.app, "BLR")
    for role in ("own", "peer", "observer"):
        html = web_world.page(role).get(DOC).text
        assert "BLR holds its own keys" in html, role
        push = f"peerlex push FILE --party BLR --slug export-law --base {web_world.versions[-1]}"
        assert push + " --key KEY" in html
        assert push.replace("push", "attach") + " --key KEY" in html
        assert (
            f"peerlex approve dushanbe-2017 --party BLR --slug export-law "
            f"--version {web_world.versions[-1]} --key KEY"
        ) in html
    agree(web_world)
    head = web_world.page("head").get(REVIEW).text
    # The server holds no key to sign the approval with: the head is shown the command instead.
    assert 'action="/reviews/dushanbe-2017/approvals"' not in head
    assert "BLR holds its own keys: approve this version on your own machine" in head
    assert f"--version {web_world.versions[-1]} --key KEY" in head


@pytest.mark.parametrize("page", [DOC, REVIEW])
def test_signers_in_russian(web_world: WebWorld, page: str) -> None:
    hold_own_keys(web_world.app, "BLR")
    agree(web_world)
    hold = web_world.page("head")
    hold.get("/language/ru")
    html = hold.get(page).text
    assert "BLR holds" not in html
    assert "Ключи BLR хранит сама делегация" in html
    if page == DOC:
        assert "подписано ключом BLR, который хранится на сервере" in html
        assert "Отпечаток ключа" in html
        assert "Этот ключ хранится на сервере" in html
