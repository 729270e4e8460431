"""The first start: the set-up link `init` prints creates the first administrator, once."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select, update

from server.app import create_app
from server.cli import main
from server.config import Config
from server.db import db_session
from server.link_models import SetupLink
from server.model_base import utcnow
from server.models import AuditEntry, User
from server.services.setup import issue_setup_link
from tests.server.web.pages import Page, csrf_of
from tests.support.accounts import PASSWORD, add_party, add_user
from tests.support.api import server_cli

LINK = re.compile(r"^http://localhost:8000/setup/([A-Za-z0-9_-]{43})$", re.MULTILINE)
ADMIN = "chief@peerlex.example"
GOOD = {"email": ADMIN, "password": PASSWORD, "password2": PASSWORD}


def issue(app: Flask, base: str = "http://localhost:8000") -> str:
    with app.app_context():
        return issue_setup_link(base)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def page_with_csrf(app: Flask, url: str) -> tuple[Page, Any]:
    page = Page(app.test_client())
    answer = page.get(url)
    if answer.status_code == 200:
        page.token = csrf_of(answer.text)
    else:
        page.token = csrf_of(page.get("/sign-in").text)
    return page, answer


def written(app: Flask) -> tuple[object, ...]:
    """What a refused request must leave as it was: users, links and the audit log."""
    with app.app_context():
        session = db_session()
        links = session.execute(
            select(SetupLink.id, SetupLink.used_at, SetupLink.revoked_at).order_by(SetupLink.id)
        ).all()
        return (
            tuple(session.scalars(select(User.email).order_by(User.id))),
            tuple(map(tuple, links)),
            session.scalar(select(func.count()).select_from(AuditEntry)),
        )


def path_of(url: str) -> str:
    return url.removeprefix("http://localhost:8000")


@pytest.fixture
def mfa_app(config: Config) -> Iterator[Flask]:
    """The app as deployments run it: administrators must hold a second factor."""
    application = create_app(dataclasses.replace(config, require_mfa="roles"))
    yield application
    application.extensions["peerlex.db"].engine.dispose()


def test_link_is_absolute_with_256_random_bits(app: Flask) -> None:
    first, second = issue(app), issue(app)
    for url in (first, second):
        found = LINK.fullmatch(url)
        assert found is not None, url
        assert len(base64.urlsafe_b64decode(found.group(1) + "=")) == 32
    assert token_of(first) != token_of(second)
    assert issue(app, "https://peerlex.example.org/").startswith(
        "https://peerlex.example.org/setup/"
    )


def test_database_holds_only_the_tokens_digest(app: Flask) -> None:
    token = token_of(issue(app))
    with app.app_context():
        rows = db_session().execute(select(SetupLink.__table__)).all()
        stored = " ".join(str(value) for row in rows for value in row)
        audit = " ".join(db_session().scalars(select(AuditEntry.details)))
        digest = db_session().scalar(select(SetupLink.token_hash))
    assert token not in stored
    assert token not in audit
    assert digest == hashlib.sha256(token.encode()).hexdigest()


def test_link_creates_the_admin_and_signs_them_in(app: Flask) -> None:
    url = issue(app)
    page, form = page_with_csrf(app, path_of(url))
    assert form.status_code == 200
    assert 'name="password2"' in form.text
    answer = page.post(path_of(url), {**GOOD, "email": "  Chief@Peerlex.Example "})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"
    assert page.get("/reviews").status_code == 200
    with app.app_context():
        admin = db_session().scalar(select(User).where(User.email == ADMIN))
        assert admin is not None
        assert admin.is_admin
        assert admin.memberships == []
        link = db_session().scalar(select(SetupLink))
        assert link is not None
        assert link.used_at is not None
        actions = list(db_session().scalars(select(AuditEntry.action)))
    assert actions == ["setup.link", "setup.first-admin"]
    # Signed in with the password chosen, like any account.
    again = Page(app.test_client())
    assert again.sign_in(ADMIN).status_code == 302


def test_admin_enrols_a_second_factor_at_once_where_required(mfa_app: Flask) -> None:
    url = issue(mfa_app)
    page, _ = page_with_csrf(mfa_app, path_of(url))
    answer = page.post(path_of(url), GOOD)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/account/security"
    assert "/account/security" in page.get("/reviews").headers.get("Location", "")


def _use_and_forget(app: Flask, url: str) -> None:
    """Use the link, then remove the admin: only the link's own state refuses it then."""
    page, _ = page_with_csrf(app, path_of(url))
    assert page.post(path_of(url), GOOD).status_code == 303
    with app.app_context():
        session = db_session()
        admin = session.scalar(select(User).where(User.email == ADMIN))
        session.delete(admin)
        session.commit()


def _expire(app: Flask, url: str) -> None:
    with app.app_context():
        session = db_session()
        session.execute(update(SetupLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()


def _admin_exists(app: Flask, url: str) -> None:
    add_user(app, "admin@peerlex.example", None, "admin")


def _refused_kinds() -> list[tuple[str, Any]]:
    return [
        ("used", _use_and_forget),
        ("expired", _expire),
        ("admin exists", _admin_exists),
    ]


def _altered(url: str) -> str:
    token = token_of(url)
    flipped = ("A" if token[5] != "A" else "B").join((token[:5], token[6:]))
    return url.rsplit("/", 1)[0] + "/" + flipped


@pytest.mark.parametrize(("why", "spoil"), _refused_kinds())
def test_spoilt_link_answers_a_page_that_says_so(app: Flask, why: str, spoil: Any) -> None:
    url = issue(app)
    spoil(app, url)
    _refused_and_nothing_written(app, path_of(url))


@pytest.mark.parametrize(
    "wrong", ["altered", "truncated", "superseded", "too long", "not base64", "empty"]
)
def test_other_links_are_refused_too(app: Flask, wrong: str) -> None:
    url = issue(app)
    newer = issue(app)
    target = {
        "altered": _altered(newer),
        "truncated": newer[:-1],
        "superseded": url,
        "too long": newer + "A",
        "not base64": newer[:-1] + "%21",
        "empty": newer.rsplit("/", 1)[0] + "/%20",
    }[wrong]
    _refused_and_nothing_written(app, path_of(target))
    # The newest link still works.
    page, form = page_with_csrf(app, path_of(newer))
    assert form.status_code == 200


def _refused_and_nothing_written(app: Flask, path: str) -> None:
    before = written(app)
    page, shown = page_with_csrf(app, path)
    assert shown.status_code == 404
    assert "This set-up link does not work" in shown.text
    assert "peerlex-server setup-link" in shown.text
    answer = page.post(path, GOOD)
    assert answer.status_code == 404
    assert "This set-up link does not work" in answer.text
    assert written(app) == before
    with app.app_context():
        assert db_session().scalar(select(User).where(User.email == ADMIN)) is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**GOOD, "password2": PASSWORD + "!"}, "The two passwords differ."),
        ({**GOOD, "password": "short", "password2": "short"}, "Choose a stronger password"),
        (
            {**GOOD, "password": "password1234", "password2": "password1234"},
            "Choose a stronger password",
        ),
        ({**GOOD, "email": "not an address"}, "That is not an email address."),
        ({**GOOD, "email": "a@b\u202e.example"}, "That is not an email address."),
        ({**GOOD, "email": ""}, "That is not an email address."),
        ({"password": PASSWORD, "password2": PASSWORD}, "That is not an email address."),
        ({"email": ADMIN}, "Choose a stronger password"),
        ({**GOOD, "password": "x" * 5000, "password2": "x" * 5000}, "Choose a stronger password"),
    ],
)
def test_bad_form_gives_a_message_and_writes_nothing(
    app: Flask, form: dict[str, str], message: str
) -> None:
    url = issue(app)
    before = written(app)
    page, _ = page_with_csrf(app, path_of(url))
    answer = page.post(path_of(url), form)
    assert answer.status_code == 400
    assert message in answer.text
    assert written(app) == before
    # The link still works after a refused form.
    assert page.post(path_of(url), GOOD).status_code == 303


def test_an_existing_non_admin_email_is_refused(app: Flask) -> None:
    add_party(app, "BLR")
    add_user(app, ADMIN, "BLR", "expert")
    url = issue(app)
    before = written(app)
    page, _ = page_with_csrf(app, path_of(url))
    answer = page.post(path_of(url), GOOD)
    assert answer.status_code == 400
    assert "An account with this email exists already." in answer.text
    assert written(app) == before


def test_form_needs_its_csrf_token(app: Flask) -> None:
    url = issue(app)
    before = written(app)
    client = app.test_client()
    assert client.get(path_of(url)).status_code == 200
    assert client.post(path_of(url), data=GOOD).status_code == 400
    assert client.post(path_of(url), data={**GOOD, "csrf_token": "forged"}).status_code == 400
    assert written(app) == before


def test_sign_in_page_says_how_to_start_until_there_is_a_user(app: Flask) -> None:
    client = app.test_client()
    empty = client.get("/sign-in").text
    assert "peerlex-server setup-link" in empty
    add_party(app, "BLR")
    add_user(app, "expert@blr.example", "BLR", "expert")
    assert "peerlex-server setup-link" not in client.get("/sign-in").text


def _run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_init_prints_the_link_on_its_own_line(tmp_path: Path) -> None:
    data = str(tmp_path / "fresh")
    runner = CliRunner(env={"PEERLEX_DATABASE_URL": "", "PEERLEX_PUBLIC_URL": ""})
    made = _run(runner, "--data", data, "init")
    assert made.exit_code == 0, made.output
    first = LINK.findall(made.output)
    assert len(first) == 1, made.output
    # `make run` runs init --if-missing at every start: a fresh link each time, until an admin.
    again = _run(runner, "--data", data, "init", "--if-missing")
    second = LINK.findall(again.output)
    assert again.exit_code == 0
    assert len(second) == 1
    assert second != first
    app = create_app(Config.from_env({}, data_dir=data, scrypt_n=2**10, secure_cookies=False))
    try:
        _refused_and_nothing_written(app, f"/setup/{first[0]}")
        page, _ = page_with_csrf(app, f"/setup/{second[0]}")
        assert page.post(f"/setup/{second[0]}", GOOD).status_code == 303
    finally:
        app.extensions["peerlex.db"].engine.dispose()
    quiet = _run(runner, "--data", data, "init", "--if-missing")
    assert quiet.exit_code == 0
    assert "/setup/" not in quiet.output
    refused = runner.invoke(main, ["--data", data, "setup-link"])
    assert refused.exit_code != 0
    assert "an administrator exists already" in refused.output


def test_link_address_from_option_or_environment(app: Flask) -> None:
    data = str(app.extensions["peerlex.config"].data_dir)
    runner = server_cli(app)
    given = _run(runner, "--data", data, "setup-link", "--url", "https://peerlex.example.org/")
    assert re.search(r"^https://peerlex\.example\.org/setup/[\w-]{43}$", given.output, re.M)
    runner = CliRunner(env={**runner.env, "PEERLEX_PUBLIC_URL": "https://review.example.org"})
    public = _run(runner, "--data", data, "init", "--if-missing")
    assert re.search(r"^https://review\.example\.org/setup/[\w-]{43}$", public.output, re.M)
    for bad in ("ftp://x.example", "https://x.example/?q=1", "peerlex.example.org"):
        refused = runner.invoke(main, ["--data", data, "setup-link", "--url", bad])
        assert refused.exit_code == 2, bad


def test_setup_link_needs_an_initialised_directory(tmp_path: Path) -> None:
    refused = CliRunner().invoke(main, ["--data", str(tmp_path / "none"), "setup-link"])
    assert refused.exit_code == 1
    assert "peerlex-server init" in refused.output
