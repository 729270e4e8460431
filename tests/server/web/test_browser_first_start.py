"""End to end in Debian's Chromium from a fresh data directory: the set-up link `init` prints
creates the first administrator, who enrols a second factor and invites people; an invitee
accepts and is signed in; used links answer a page that says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.web.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    SETUP_LINE,
    fresh_data_env,
    server_cli,
)
from tests.support.accounts import PASSWORD
from tests.support.live_server import serving
from tests.support.second_factor import away_from_a_step_edge, code_at

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_first_start_then_invitations_in_a_browser(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    env = fresh_data_env(tmp_path)
    printed = SETUP_LINE.findall(server_cli(env, "init"))
    assert len(printed) == 1
    setup_path = printed[0]
    server_cli(env, "party", "add", "KGZ", "--name", "Kyrgyz Republic", "--kind", "state")
    server_cli(
        env, "party", "add", "UNRCPD", "--name", "UNODA Regional Centre", "--kind", "organisation"
    )
    problems: list[str] = []

    with (
        serving(env, tmp_path / "server.log", "--workers", "1", seconds=30) as (port, _),
        sync_playwright() as driver,
    ):
        url = f"http://127.0.0.1:{port}"
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def fresh_page(browser: Browser, locale: str) -> Page:
            context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 860})
            page = context.new_page()
            # A refused form's or link's status (checked where it happens) and /favicon.ico,
            # which peerlex does not serve, are logged as failed loads: any other error (a CSP
            # refusal, a script error) is a problem.
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource")
                    else None
                ),
            )
            return page

        def shot(page: Page, name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        # The sign-in page of a deployment with no account says how to start.
        admin = fresh_page(browser, "en-GB")
        admin.goto(url + "/reviews")
        assert "peerlex-server setup-link" in admin.locator("#first-start").inner_text()
        shot(admin, "30-sign-in-first-start-en")

        # The set-up link: the first administrator, then at once a second factor.
        admin.goto(url + setup_path)
        shot(admin, "31-setup-en")
        admin.fill("#email", "chief@peerlex.example")
        admin.fill("#password", PASSWORD)
        admin.fill("#password2", PASSWORD)
        admin.click("main button[type=submit]")
        admin.wait_for_url("**/account/security")
        admin.fill("#label", "phone")
        admin.click("#add-authenticator ~ form button[type=submit]")
        secret = admin.locator("#secret").inner_text().replace(" ", "")
        admin.fill("#code", code_at(secret, away_from_a_step_edge()))
        admin.click("main form button[type=submit]")
        assert len(admin.locator(".recovery-codes li").all_inner_texts()) == 10
        admin.click("a.button")
        admin.wait_for_url("**/reviews")

        # Invitations: an organiser for UNRCPD, an expert for Kyrgyzstan.
        links = {}
        for email, party, role in (
            ("organiser@unrcpd.example", "UNRCPD", "organiser"),
            ("expert@kgz.example", "KGZ", "expert"),
        ):
            admin.click("header.top a[href='/invitations']")
            admin.fill("#email", email)
            admin.select_option("#party", party)
            admin.select_option("#role", role)
            admin.click("main form.stack button[type=submit]")
            links[email] = admin.locator("#invitation-link").input_value()
            assert links[email].startswith(url + "/invitations/")
        shot(admin, "32-invitation-made-en")
        admin.goto(url + "/invitations")
        pending = admin.locator("table.invitations").inner_text()
        assert "organiser@unrcpd.example" in pending
        assert "expert@kgz.example" in pending
        shot(admin, "33-invitations-pending-en")

        # The expert accepts in Russian and is signed in.
        expert = fresh_page(browser, "ru-RU")
        expert.goto(links["expert@kgz.example"])
        assert expert.locator("h1").inner_text() == "Принять приглашение"
        assert expert.locator("#email").input_value() == "expert@kgz.example"
        shot(expert, "34-accept-invitation-ru")
        expert.fill("#password", PASSWORD)
        expert.fill("#password2", PASSWORD + "!")
        expert.click("main button[type=submit]")
        assert expert.locator(".error").inner_text() == "Пароли не совпадают."
        expert.fill("#password", PASSWORD)
        expert.fill("#password2", PASSWORD)
        expert.click("main button[type=submit]")
        expert.wait_for_url("**/reviews")
        assert "expert@kgz.example" in expert.locator("header.top").inner_text()
        shot(expert, "35-expert-signed-in-ru")

        # The organiser accepts, and must enrol a second factor first.
        organiser = fresh_page(browser, "en-GB")
        organiser.goto(links["organiser@unrcpd.example"])
        organiser.fill("#password", PASSWORD)
        organiser.fill("#password2", PASSWORD)
        organiser.click("main button[type=submit]")
        organiser.wait_for_url("**/account/security")

        # Used links answer a page that says so.
        spent = fresh_page(browser, "ru-RU")
        spent.goto(links["expert@kgz.example"])
        assert spent.locator("h1").inner_text() == "Эта ссылка-приглашение не действует"
        shot(spent, "36-used-invitation-ru")
        spent.goto(url + setup_path)
        assert spent.locator("h1").inner_text() == "Эта ссылка для настройки не действует"
        shot(spent, "37-used-setup-link-ru")
        browser.close()

    assert problems == [], problems
    refused = subprocess.run(
        [sys.executable, "-m", "server.cli", "setup-link"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    assert "an administrator exists already" in refused.stderr
