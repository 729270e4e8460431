"""End to end in Debian's Chromium against a real server process: an organiser opens a review
from the form, invites a delegate per State, a delegate accepts; on the running review the
desk names the missing approval, then closes the review with the bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.review_fixtures import USERS
from tests.server.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.server.web.pages import WebWorld
from tests.support.accounts import PASSWORD

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, sync_playwright  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_organiser_opens_a_review_invites_and_closes_one(
    live_url: str, web_world: WebWorld, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    v3 = web_world.versions[2]
    problems: list[str] = []

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def opened(locale: str) -> Page:
            context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900})
            page = context.new_page()
            # Refused forms (4xx, checked where they happen) are logged as failed loads; any
            # other console error (a CSP refusal, a script error) is a problem.
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource")
                    else None
                ),
            )
            return page

        def signed_in(role: str, locale: str) -> Page:
            page = opened(locale)
            page.goto(live_url + "/")
            page.fill("#email", USERS[role][0])
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/reviews")
            return page

        def shot(page: Page, name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        organiser = signed_in("organiser", "en-GB")
        organiser.click("main a[href='/reviews/new']")
        shot(organiser, "40-new-review-en")
        # A slug taken by a page is refused with the reason, and the form keeps what was typed.
        organiser.fill("#slug", "new")
        organiser.fill("#title", "Bishkek 2018")
        for code in ("BLR", "KGZ", "TJK"):
            organiser.check(f"input[name=states][value={code}]")
        organiser.check("input[name=observers][value=GOE]")
        organiser.click("main form.new-review button[type=submit]")
        assert "taken by a page address" in organiser.locator("#slug-error").inner_text()
        assert organiser.locator("#title").input_value() == "Bishkek 2018"
        assert organiser.locator("input[name=states][value=KGZ]").is_checked()
        shot(organiser, "41-new-review-refused-en")
        organiser.fill("#slug", "bishkek-2018")
        organiser.click("main form.new-review button[type=submit]")
        organiser.wait_for_url("**/reviews/bishkek-2018#desk")
        assert organiser.locator("h1").inner_text() == "Bishkek 2018"

        # A delegate per State, each link shown once on the desk.
        links = {}
        for code in ("BLR", "KGZ", "TJK"):
            organiser.fill(f"#invite-{code}-email", f"delegate@{code.lower()}.gov.example")
            organiser.select_option(f"#desk-{code} select[name=role]", "head")
            organiser.click(f"#desk-{code} button[type=submit]")
            links[code] = organiser.locator("#invitation-link").input_value()
            assert links[code].startswith(live_url + "/invitations/")
        shot(organiser, "42-desk-invitation-made-en")
        organiser.goto(live_url + "/reviews/bishkek-2018")
        assert "delegate@kgz.gov.example" in organiser.locator("#desk-KGZ").inner_text()
        assert organiser.locator("#invitation-link").count() == 0

        # The Kyrgyz delegate accepts in Russian (a head enrols a second factor where the
        # deployment requires one; this one does not) and sees the review.
        delegate = opened("ru-RU")
        delegate.goto(links["KGZ"])
        delegate.fill("#password", PASSWORD)
        delegate.fill("#password2", PASSWORD)
        delegate.click("main button[type=submit]")
        delegate.wait_for_url("**/reviews")
        assert "Bishkek 2018" in delegate.locator("main").inner_text()
        delegate.goto(live_url + "/reviews/bishkek-2018")
        assert delegate.locator("#desk").count() == 0
        shot(delegate, "43-delegate-sees-the-review-ru")

        # The running review: to agreement; the bundle waits for BLR's head, and says so.
        organiser.goto(live_url + "/reviews/dushanbe-2017")
        shot(organiser, "44-desk-open-en")
        organiser.click("form[action$='/state'] button")
        organiser.click("form[action$='/bundle'] button")
        assert f"BLR / export-law ({v3[:12]})" in organiser.locator("#bundle-error").inner_text()
        shot(organiser, "45-desk-approvals-missing-en")
        head = signed_in("head", "ru-RU")
        head.goto(live_url + "/reviews/dushanbe-2017")
        head.click("form[action$='/approvals'] button")
        organiser.goto(live_url + "/reviews/dushanbe-2017")
        assert "approved by head@blr.example" in organiser.locator("#desk-BLR").inner_text()
        organiser.click("form[action$='/bundle'] button")
        assert organiser.locator("a[href='/api/v1/reviews/dushanbe-2017/bundle']").count() == 1
        shot(organiser, "46-desk-closed-en")

        # The same desk in Russian.
        russian = signed_in("organiser", "ru-RU")
        russian.goto(live_url + "/reviews/bishkek-2018")
        assert "Государства по очереди" in russian.locator("main").inner_text()
        shot(russian, "47-desk-ru")
        browser.close()

    assert problems == [], problems
