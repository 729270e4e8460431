"""A review run from the browser alone, in Debian's Chromium, from a fresh data directory: the
set-up link `init` prints makes the administrator, who adds the States and the organisation and
invites an organiser; the organiser opens a review and invites a delegate per State; a
delegate accepts, signs in with email and password, and sees the review."""

from __future__ import annotations

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
from playwright.sync_api import Page, sync_playwright  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

PARTIES = (
    ("BLR", "Republic of Belarus", "state"),
    ("KGZ", "Kyrgyz Republic", "state"),
    ("TJK", "Republic of Tajikistan", "state"),
    ("UNRCPD", "UN Regional Centre for Peace and Disarmament", "organisation"),
)
STATES = ("BLR", "KGZ", "TJK")


def enrol_authenticator(page: Page) -> str:
    """On the security page: add an authenticator app, confirm it with its first code, and go
    on past the recovery codes. The app's secret, to compute later codes with."""
    page.wait_for_url("**/account/security")
    page.fill("#label", "phone")
    page.click("#add-authenticator ~ form button[type=submit]")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.fill("#code", code_at(secret, away_from_a_step_edge()))
    page.click("main form button[type=submit]")
    assert len(set(page.locator(".recovery-codes li").all_inner_texts())) == 10
    return secret


def test_a_review_run_from_the_browser_from_a_fresh_data_directory(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    env = fresh_data_env(tmp_path)
    printed = SETUP_LINE.findall(server_cli(env, "init"))
    assert len(printed) == 1
    problems: list[str] = []

    with (
        serving(env, tmp_path / "server.log", "--workers", "1", seconds=30) as (port, _),
        sync_playwright() as driver,
    ):
        url = f"http://127.0.0.1:{port}"
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def fresh_page(locale: str) -> Page:
            """A new browser context: no cookie of anyone else's."""
            context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 860})
            page = context.new_page()
            # /favicon.ico, which peerlex does not serve, is logged as a failed load; any other
            # console error (a CSP refusal, a script error) is a problem.
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

        # 1. The set-up link makes the first administrator, who enrols a second factor at once.
        admin = fresh_page("en-GB")
        admin.goto(url + printed[0])
        assert admin.locator("h1").count() == 1
        shot(admin, "50-setup-en")
        admin.fill("#email", "chief@peerlex.example")
        admin.fill("#password", PASSWORD)
        admin.fill("#password2", PASSWORD)
        admin.click("main button[type=submit]")
        admin.wait_for_url("**/account/security")
        shot(admin, "51-admin-must-enrol-en")
        enrol_authenticator(admin)
        shot(admin, "52-admin-recovery-codes-en")
        admin.click("a.button")
        admin.wait_for_url("**/reviews")

        # 2. Three States and an organisation, from the administration pages.
        admin.click("header.top a[href='/admin/parties']")
        admin.wait_for_url("**/admin/parties")
        for code, name, kind in PARTIES:
            admin.fill("#code", code)
            admin.fill("#name", name)
            admin.select_option("#kind", kind)
            admin.click("main form.stack button[type=submit]")
            admin.wait_for_url("**/admin/parties")
            assert admin.locator(f"#party-{code} h3").inner_text() == f"{code} — {name}"
            # The server holds its keys (the default): a signing key's fingerprint is shown.
            assert admin.locator(f"#party-{code} ul.keys code").count() == 1
        shot(admin, "53-admin-parties-en")

        # 3. An organiser for UNRCPD, invited from the invitations page.
        admin.click("header.top a[href='/invitations']")
        admin.fill("#email", "officer@unrcpd.example")
        admin.select_option("#party", "UNRCPD")
        admin.select_option("#role", "organiser")
        admin.click("main form.stack button[type=submit]")
        organiser_link = admin.locator("#invitation-link").input_value()
        assert organiser_link.startswith(url + "/invitations/")
        shot(admin, "54-organiser-invited-en")

        # 4. The organiser accepts, enrols a second factor, and signs in again with both.
        organiser = fresh_page("en-GB")
        organiser.goto(organiser_link)
        assert organiser.locator("#email").input_value() == "officer@unrcpd.example"
        shot(organiser, "55-organiser-accepts-en")
        organiser.fill("#password", PASSWORD)
        organiser.fill("#password2", PASSWORD)
        organiser.click("main button[type=submit]")
        secret = enrol_authenticator(organiser)
        organiser.click("a.button")
        organiser.wait_for_url("**/reviews")
        organiser.click("header.top form button[type=submit]")  # sign out
        organiser.goto(url + "/")
        organiser.fill("#email", "officer@unrcpd.example")
        organiser.fill("#password", PASSWORD)
        organiser.click("main button[type=submit]")
        organiser.wait_for_url("**/sign-in/second-factor")
        shot(organiser, "56-organiser-second-factor-en")
        # The next step's code: the one the enrolment used is spent.
        organiser.fill("#code", code_at(secret, away_from_a_step_edge() + 30))
        organiser.click("main button[type=submit]")
        organiser.wait_for_url("**/reviews")
        assert "officer@unrcpd.example" in organiser.locator("header.top").inner_text()

        # 5. The organiser opens a review of the three States and invites an expert per State.
        organiser.click("main a[href='/reviews/new']")
        organiser.fill("#slug", "bishkek-2027")
        organiser.fill("#title", "Export control laws, Bishkek 2027")
        for code in STATES:
            organiser.check(f"input[name=states][value={code}]")
        # Its own organisation is always an organiser, so it is shown ticked and fixed, and
        # with no other organisation there is no observer to choose.
        own = organiser.locator("input[name=organisers][value=UNRCPD]")
        assert own.is_checked()
        assert own.is_disabled()
        assert organiser.locator("input[name=observers]").count() == 0
        assert "No other organisation is registered yet" in organiser.locator("main").inner_text()
        shot(organiser, "57-new-review-en")
        organiser.click("main form.new-review button[type=submit]")
        organiser.wait_for_url("**/reviews/bishkek-2027#desk")
        assert organiser.locator("h1").inner_text() == "Export control laws, Bishkek 2027"
        links = {}
        for code in STATES:
            organiser.fill(f"#invite-{code}-email", f"expert@{code.lower()}.gov.example")
            organiser.select_option(f"#desk-{code} select[name=role]", "expert")
            organiser.click(f"#desk-{code} button[type=submit]")
            links[code] = organiser.locator("#invitation-link").input_value()
            assert links[code].startswith(url + "/invitations/")
        assert len(set(links.values())) == len(STATES)
        shot(organiser, "58-desk-delegates-invited-en")
        organiser.goto(url + "/reviews/bishkek-2027")
        for code in STATES:
            pending = organiser.locator(f"#desk-{code}").inner_text()
            assert f"expert@{code.lower()}.gov.example" in pending
        shot(organiser, "59-desk-pending-en")

        # 6. Kyrgyzstan's expert accepts in Russian, signs in with email and password, and
        # sees the review (an expert needs no second factor here).
        delegate = fresh_page("ru-RU")
        delegate.goto(links["KGZ"])
        assert delegate.locator("h1").inner_text() == "Принять приглашение"
        assert delegate.locator("#email").input_value() == "expert@kgz.gov.example"
        shot(delegate, "60-delegate-accepts-ru")
        delegate.fill("#password", PASSWORD)
        delegate.fill("#password2", PASSWORD)
        delegate.click("main button[type=submit]")
        delegate.wait_for_url("**/reviews")
        delegate.click("header.top form button[type=submit]")  # sign out
        delegate.goto(url + "/")
        delegate.fill("#email", "expert@kgz.gov.example")
        delegate.fill("#password", PASSWORD)
        shot(delegate, "61-delegate-signs-in-ru")
        delegate.click("main button[type=submit]")
        delegate.wait_for_url("**/reviews")
        assert "Export control laws, Bishkek 2027" in delegate.locator("main").inner_text()
        shot(delegate, "62-delegate-reviews-ru")
        delegate.click("main a[href='/reviews/bishkek-2027']")
        delegate.wait_for_url("**/reviews/bishkek-2027")
        assert delegate.locator("h1").inner_text() == "Export control laws, Bishkek 2027"
        assert delegate.locator("#desk").count() == 0
        shot(delegate, "63-delegate-sees-the-review-ru")

        # On the desk, Kyrgyzstan's invitation is no longer pending; the others still are.
        organiser.goto(url + "/reviews/bishkek-2027")
        assert "expert@kgz.gov.example" not in organiser.locator("#desk-KGZ").inner_text()
        assert "expert@tjk.gov.example" in organiser.locator("#desk-TJK").inner_text()
        browser.close()

    assert problems == [], problems
