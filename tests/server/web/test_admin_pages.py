"""The administration pages: every act works and is audited; every bad form says why and writes
nothing; a disabled account really is shut out (pages and API tokens)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from server.db import db_session
from server.models import AuditEntry, MfaFactor, Party, User, UserSession, utcnow
from tests.server.review_fixtures import ReviewWorld
from tests.server.web.pages import WebWorld
from tests.support.accounts import PASSWORD
from tests.support.second_factor import away_from_a_step_edge, code_at, enrol
from tests.support.ssh_user_keys import fingerprint_of, new_key, public_line

ADMIN = "admin@peerlex.example"
FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


@pytest.fixture
def admin_world(app: Flask, review_world: ReviewWorld) -> WebWorld:
    return WebWorld(app, review_world)


def written(app: Flask) -> tuple[Any, ...]:
    """What an administration act may change: parties, accounts, memberships, the audit log."""
    with app.app_context():
        session = db_session()
        parties = session.execute(select(Party.code, Party.name, Party.kind).order_by(Party.id))
        users = session.execute(select(User.email, User.is_admin, User.active).order_by(User.id))
        roles = [
            (user.email, sorted((m.party.code, m.role) for m in user.memberships))
            for user in session.scalars(select(User).order_by(User.id))
        ]
        entries = session.scalar(select(func.count(AuditEntry.id)))
        return tuple(parties.all()), tuple(users.all()), tuple(roles), entries


def last_audit(app: Flask) -> tuple[str | None, str, str]:
    with app.app_context():
        entry = db_session().scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None
        return entry.user_email, entry.action, entry.target


def user_id(app: Flask, email: str) -> int:
    with app.app_context():
        found = db_session().scalar(select(User.id).where(User.email == email))
        assert found is not None
        return found


# -- parties -------------------------------------------------------------------------------------


def test_parties_page_shows_custody_and_keys_never_content(admin_world: WebWorld) -> None:
    admin_world.world.push("Статья 1. Секретный текст проекта.\n")
    page = admin_world.page("admin").get("/admin/parties")
    assert page.status_code == 200
    assert "BLR" in page.text
    assert "UNRCPD" in page.text
    assert len(FINGERPRINT.findall(page.text)) >= 7  # one signing key per custodial party
    assert "keys held by the server" in page.text
    assert "Секретный" not in page.text
    assert "export-law" not in page.text


def test_adding_a_party_is_audited_and_makes_its_keys(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    form = {"code": "AZE", "name": "Republic of Azerbaijan", "kind": "state", "custody": "server"}
    answer = admin.post("/admin/parties", form)
    assert answer.status_code == 303
    assert last_audit(app) == (ADMIN, "party.add", "AZE")
    assert "Republic of Azerbaijan" in admin.get("/admin/parties").text
    config = app.extensions["peerlex.config"]
    assert (config.keys_dir / "AZE.json").exists()


def test_a_self_custody_state_gets_no_key(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    form = {"code": "ARM", "name": "Armenia", "kind": "state", "custody": "self"}
    assert admin.post("/admin/parties", form).status_code == 303
    assert not (app.extensions["peerlex.config"].keys_dir / "ARM.json").exists()
    assert "holds its own keys" in admin.get("/admin/parties").text


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"code": "bl", "name": "x", "kind": "state"}, 400, "2-16 upper-case"),
        ({"code": "../X", "name": "x", "kind": "state"}, 400, "2-16 upper-case"),
        ({"code": "PEERLEX", "name": "x", "kind": "state"}, 400, "2-16 upper-case"),
        ({"code": "BLR", "name": "Belarus again", "kind": "state"}, 409, "exists already"),
        ({"code": "AZE", "name": "", "kind": "state"}, 400, "1-200 characters"),
        ({"code": "AZE", "name": "A\u202eB", "kind": "state"}, 400, "1-200 characters"),
        ({"code": "AZE", "name": "x" * 201, "kind": "state"}, 400, "1-200 characters"),
        ({"code": "AZE", "name": "A\x00B", "kind": "state"}, 400, "1-200 characters"),
        ({"code": "AZE", "name": "x" * 5000, "kind": "state"}, 400, "1-200 characters"),
        ({"code": "AZE\x00", "name": "x", "kind": "state"}, 400, "2-16 upper-case"),
        ({"code": "AZE", "name": "Azerbaijan", "kind": "empire"}, 400, "State or an organisation"),
        (
            {"code": "OSC2", "name": "x", "kind": "organisation", "custody": "self"},
            400,
            "Only a State",
        ),
        ({"code": "AZE", "name": "x", "kind": "state", "custody": "nobody"}, 400, "Only a State"),
    ],
)
def test_a_bad_party_form_says_why_and_writes_nothing(
    admin_world: WebWorld, form: dict[str, str], status: int, message: str
) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    keys_before = sorted(p.name for p in app.extensions["peerlex.config"].keys_dir.iterdir())
    before = written(app)
    answer = admin.post("/admin/parties", form)
    assert answer.status_code == status
    assert message in answer.text
    assert written(app) == before
    assert sorted(p.name for p in app.extensions["peerlex.config"].keys_dir.iterdir()) == (
        keys_before
    )


def test_renaming_a_party_is_audited(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    answer = admin.post("/admin/parties/BLR/rename", {"name": "Республика Беларусь"})
    assert answer.status_code == 303
    assert last_audit(app) == (ADMIN, "party.rename", "BLR")
    assert "Республика Беларусь" in admin.get("/admin/parties").text


def test_a_bad_rename_says_why_and_writes_nothing(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    before = written(app)
    empty = admin.post("/admin/parties/BLR/rename", {"name": "  "})
    assert empty.status_code == 400
    assert "1-200 characters" in empty.text
    assert admin.post("/admin/parties/ZZZ/rename", {"name": "Nowhere"}).status_code == 404
    assert admin.post("/admin/parties/-x/rename", {"name": "Nowhere"}).status_code == 404
    forged = admin.client.post("/admin/parties/BLR/rename", data={"name": "Forged"})
    assert forged.status_code == 400
    forged_add = admin.client.post(
        "/admin/parties", data={"code": "AZE", "name": "x", "kind": "state"}
    )
    assert forged_add.status_code == 400
    assert written(app) == before


# -- users ---------------------------------------------------------------------------------------


def test_users_page_lists_accounts_and_links_to_invitations(admin_world: WebWorld) -> None:
    page = admin_world.page("admin").get("/admin/users")
    assert page.status_code == 200
    for email in ("expert@blr.example", "organiser@unrcpd.example", ADMIN):
        assert email in page.text
    assert 'href="/invitations"' in page.text
    assert "head of delegation" in page.text


def test_changing_a_role_is_audited(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    uzb = user_id(app, "expert@uzb.example")
    answer = admin.post(f"/admin/users/{uzb}/role", {"role": "head", "party": "UZB"})
    assert answer.status_code == 303
    assert last_audit(app) == (ADMIN, "user.role", "expert@uzb.example")
    with app.app_context():
        account = db_session().get(User, uzb)
        assert account is not None
        assert [(m.party.code, m.role) for m in account.memberships] == [("UZB", "head")]


@pytest.mark.parametrize(
    ("email", "form", "status", "message"),
    [
        ("expert@uzb.example", {"role": "boss", "party": "UZB"}, 400, "does not fit"),
        ("expert@uzb.example", {"role": "head", "party": "ZZZ"}, 400, "no such party"),
        ("expert@uzb.example", {"role": "organiser", "party": "UZB"}, 400, "does not fit"),
        ("expert@uzb.example", {"role": "observer", "party": "-BLR"}, 400, "no such party"),
        ("expert@uzb.example", {"role": "head", "party": "UZB\x00"}, 400, "no such party"),
        (ADMIN, {"role": "expert", "party": "UZB"}, 409, "last enabled administrator"),
        (ADMIN, {"role": "expert"}, 400, "Choose the party"),
    ],
)
def test_a_bad_role_form_says_why_and_writes_nothing(
    admin_world: WebWorld, email: str, form: dict[str, str], status: int, message: str
) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    before = written(app)
    answer = admin.post(f"/admin/users/{user_id(app, email)}/role", form)
    assert answer.status_code == status
    assert message.lower() in answer.text.lower()
    assert written(app) == before


def test_the_last_admin_cannot_be_disabled(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    before = written(app)
    answer = admin.post(f"/admin/users/{user_id(app, ADMIN)}/disable")
    assert answer.status_code == 409
    assert "last enabled administrator" in answer.text
    assert written(app) == before
    # With a second administrator, the first may step down.
    observer = user_id(app, "observer@goe.example")
    assert admin.post(f"/admin/users/{observer}/role", {"role": "admin"}).status_code == 303
    assert admin.post(f"/admin/users/{user_id(app, ADMIN)}/disable").status_code == 303
    assert admin.get("/admin/users").status_code == 302  # its own session ended with it


def test_unknown_user_and_missing_csrf_write_nothing(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    before = written(app)
    for act in ("role", "disable", "enable", "end-sessions", "reset-second-factor"):
        assert admin.post(f"/admin/users/999999/{act}", {"role": "expert"}).status_code == 404
        uzb = user_id(app, "expert@uzb.example")
        forged = admin.client.post(f"/admin/users/{uzb}/{act}", data={"role": "head"})
        assert forged.status_code == 400, act
    assert written(app) == before


def test_a_disabled_user_cannot_sign_in_nor_use_a_token(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    outsider_page = admin_world.page("outsider")
    token_api = admin_world.world["outsider"]
    assert token_api.get("/api/v1/me").status_code == 200
    uzb = user_id(app, "expert@uzb.example")
    assert admin.post(f"/admin/users/{uzb}/disable").status_code == 303
    assert last_audit(app) == (ADMIN, "user.disable", "expert@uzb.example")
    assert outsider_page.get("/reviews").status_code == 302
    assert token_api.get("/api/v1/me").status_code == 401
    assert admin_world.page(None).sign_in("expert@uzb.example").status_code == 401
    fresh = app.test_client().post(
        "/api/v1/auth/tokens", json={"email": "expert@uzb.example", "password": PASSWORD}
    )
    assert fresh.status_code == 401
    assert admin.post(f"/admin/users/{uzb}/enable").status_code == 303
    assert last_audit(app) == (ADMIN, "user.enable", "expert@uzb.example")
    assert admin_world.page(None).sign_in("expert@uzb.example").status_code == 302


def test_ending_sessions_signs_the_user_out_everywhere(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    peer_page, peer_api = admin_world.page("peer"), admin_world.world["peer"]
    assert "1" in admin.get("/admin/users").text
    kgz = user_id(app, "expert@kgz.example")
    assert admin.post(f"/admin/users/{kgz}/end-sessions").status_code == 303
    assert last_audit(app) == (ADMIN, "user.sessions.end", "expert@kgz.example")
    assert peer_page.get("/reviews").status_code == 302
    assert peer_api.get("/api/v1/me").status_code == 401
    # The account itself stays enabled: a new sign-in works.
    assert admin_world.page(None).sign_in("expert@kgz.example").status_code == 302


def test_resetting_second_factors_makes_the_user_enrol_again(admin_world: WebWorld) -> None:
    app, admin = admin_world.app, admin_world.page("admin")
    enrol(admin_world.world["head"], away_from_a_step_edge())
    head = user_id(app, "head@blr.example")
    with app.app_context():
        assert db_session().scalar(select(func.count()).where(MfaFactor.user_id == head)) == 1
    answer = admin.post(f"/admin/users/{head}/reset-second-factor")
    assert answer.status_code == 303
    assert last_audit(app) == (ADMIN, "mfa.reset", "head@blr.example")
    with app.app_context():
        assert db_session().scalar(select(func.count()).where(MfaFactor.user_id == head)) == 0
    assert admin_world.world["head"].get("/api/v1/me").status_code == 401


def test_administration_speaks_russian_under_a_strict_policy(admin_world: WebWorld) -> None:
    admin = admin_world.page("admin")
    assert 'href="/admin/parties"' in admin.get("/reviews").text
    assert 'href="/admin/parties"' not in admin_world.page("organiser").get("/reviews").text
    admin.get("/language/ru")
    for url, words in (("/admin/parties", "Добавить сторону"), ("/admin/users", "Отключить")):
        page = admin.get(url)
        assert words in page.text
        assert "Администрирование" in page.text
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "<script" not in page.text
        assert ' style="' not in page.text
    refused = admin.post("/admin/parties", {"code": "bl", "name": "x", "kind": "state"})
    assert "Код стороны" in refused.text


def test_an_old_sign_in_confirms_before_changing_ways_in(admin_world: WebWorld) -> None:
    """Disabling, enabling, a role and a reset need a fresh second factor; the rest does not."""
    app, admin = admin_world.app, admin_world.page("admin")
    now = away_from_a_step_edge()
    enrolled = enrol(admin_world.world["admin"], now)
    with app.app_context():
        then = utcnow() - timedelta(minutes=16)
        db_session().execute(
            update(UserSession).values(created_at=then, last_seen_at=then, verified_at=then)
        )
        db_session().commit()
    uzb = user_id(app, "expert@uzb.example")
    before = written(app)
    for act in ("disable", "enable", "role", "reset-second-factor"):
        refused = admin.post(f"/admin/users/{uzb}/{act}", {"role": "head"})
        assert refused.status_code == 403, act
        assert "need a sign-in of the last 15 minutes" in refused.text
        assert 'action="/account/confirm?next=/admin/users"' in refused.text
    assert written(app) == before
    assert admin.post("/admin/parties/BLR/rename", {"name": "Belarus"}).status_code == 303
    confirmed = admin.post(
        "/account/confirm?next=/admin/users", {"code": code_at(enrolled.secret, now + 30)}
    )
    assert (confirmed.status_code, confirmed.headers["Location"]) == (303, "/admin/users")
    assert admin.post(f"/admin/users/{uzb}/disable").status_code == 303


def test_a_party_name_is_shown_as_text(admin_world: WebWorld) -> None:
    admin = admin_world.page("admin")
    name = '<script>alert(1)</script>"><b>'
    assert admin.post("/admin/parties/BLR/rename", {"name": name}).status_code == 303
    for url in ("/admin/parties", "/admin/users"):
        assert "<script>alert(1)" not in admin.get(url).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in admin.get("/admin/parties").text


def test_a_role_change_revokes_keys_that_now_sign_beyond_it(
    admin_world: WebWorld, tmp_path: Path
) -> None:
    """A former head's key no longer signs approvals; an expert made head keeps theirs."""
    app, admin, world = admin_world.app, admin_world.page("admin"), admin_world.world
    head_private = new_key(tmp_path, "head")
    head_key = public_line(head_private)
    expert_key = public_line(new_key(tmp_path, "expert"))
    assert world["head"].post("/api/v1/me/keys", json={"public_key": head_key}).status_code == 201
    assert world["own"].post("/api/v1/me/keys", json={"public_key": expert_key}).status_code == 201
    head, own = user_id(app, "head@blr.example"), user_id(app, "expert@blr.example")
    assert fingerprint_of(head_private) in admin.get("/admin/parties").text
    assert admin.post(f"/admin/users/{head}/role", {"role": "expert"}).status_code == 303
    assert last_audit(app)[1] == "key.revoke"
    assert admin.post(f"/admin/users/{own}/role", {"role": "head"}).status_code == 303
    assert last_audit(app)[1] == "user.role"
    keys = {k["owner"]: k for k in world["own"].get("/api/v1/parties/BLR/keys").json["keys"]}
    assert keys["head@blr.example"]["valid_before"] is not None
    assert keys["expert@blr.example"]["valid_before"] is None
    # Moved to another party, the key of the first one ends too.
    assert (
        admin.post(f"/admin/users/{own}/role", {"role": "head", "party": "KGZ"}).status_code == 303
    )
    keys = {k["owner"]: k for k in world["peer"].get("/api/v1/parties/BLR/keys").json["keys"]}
    assert keys["expert@blr.example"]["valid_before"] is not None
