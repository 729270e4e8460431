"""End to end in Debian's Chromium against a real server process: comment, answer, bundle."""

from __future__ import annotations

import tarfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from server.db import db_session
from server.models import UserSession, utcnow
from tests.server.review_fixtures import USERS
from tests.server.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.server.web.pages import DOC, WebWorld
from tests.support.accounts import PASSWORD
from tests.support.second_factor import STEP, away_from_a_step_edge, code_at

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import ConsoleMessage, Page, sync_playwright  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_peer_comments_state_answers_organiser_takes_the_bundle(
    live_url: str, web_world: WebWorld, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    v1, _, v3 = web_world.versions
    problems: list[str] = []

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def signed_in(role: str, locale: str) -> Page:
            context = browser.new_context(
                locale=locale, viewport={"width": 1366, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(live_url + "/")
            page.fill("#email", USERS[role][0])
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/reviews")
            return page

        def shot(page: Page, name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        # The sign-in page, in Russian from the browser's language.
        context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 700})
        first = context.new_page()
        first.goto(live_url + "/reviews")
        assert first.locator("h1").inner_text() == "Вход"
        shot(first, "01-sign-in-ru")
        context.close()

        # A peer opens the redline between the two shared versions and comments on a passage.
        peer = signed_in("peer", "ru-RU")
        shot(peer, "02-my-reviews-ru")
        peer.goto(f"{live_url}{DOC}/redline?from={v1}&to={v3}")
        assert peer.locator("ins").count() > 0
        assert peer.locator("del").count() > 0
        shot(peer, "03-redline-inline-ru")
        peer.evaluate(
            """() => {
                const block = document.querySelector('[data-block="art_2__para_2"]');
                const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
                let node;
                const wanted = "уполномоченным органом";
                while ((node = walker.nextNode()) && !node.data.includes(wanted)) {}
                const at = node.data.indexOf(wanted);
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + wanted.length);
                const selection = window.getSelection();
                selection.removeAllRanges();
                selection.addRange(range);
                document.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
            }"""
        )
        assert peer.input_value("#quote") == "уполномоченным органом"
        assert peer.input_value("#quote-block") == "art_2__para_2"
        peer.fill("#body", "Почему срок сокращён? <script>alert(1)</script>")
        peer.click("#compose button[type=submit]")
        comment = peer.locator("#new-art_2__para_2").locator("xpath=..").locator("article.comment")
        assert "Почему срок сокращён? <script>alert(1)</script>" in comment.inner_text()
        assert "на месте" in comment.inner_text()
        shot(peer, "04-redline-commented-ru")
        peer.goto(f"{live_url}{DOC}/redline?from={v1}&to={v3}&view=side")
        shot(peer, "05-redline-side-by-side-ru")

        # The owning State replies and resolves it, in English.
        own = signed_in("own", "en-GB")
        own.goto(live_url + DOC)
        thread = own.locator("article.comment").first
        thread.locator("textarea[name=body]").fill("The twenty working days follow the new code.")
        thread.locator("form.reply button").click()
        thread = own.locator("article.comment").first
        assert "The twenty working days" in thread.locator(".replies").inner_text()
        thread.get_by_role("button", name="Resolve").click()
        assert own.locator("article.comment .badge").first.inner_text() == "resolved"
        signed = own.locator(".facts .signature").inner_text()
        assert "signed with the server-held key of BLR" in signed
        assert "SHA256:" in signed
        shot(own, "06-document-en")

        # The organiser moves the review on, the head approves, the organiser takes the bundle.
        organiser = signed_in("organiser", "ru-RU")
        organiser.goto(live_url + "/reviews/dushanbe-2017")
        organiser.click("form[action$='/state'] button")
        head = signed_in("head", "en-GB")
        head.goto(live_url + "/reviews/dushanbe-2017")
        head.click("form[action$='/approvals'] button")
        assert "Approved and signed." in head.locator(".flash").inner_text()
        organiser.reload()
        organiser.click("form[action$='/bundle'] button")
        assert "SHA-256" in organiser.locator(".flash").inner_text()
        assert "ключом BLR" in organiser.locator("#approvals ~ table .signature").inner_text()
        shot(organiser, "07-review-organiser-ru")
        with organiser.expect_download() as download:
            organiser.click("a[href$='/bundle']")
        bundle = tmp_path / "bundle.tar"
        download.value.save_as(bundle)
        browser.close()

    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert "dushanbe-2017/manifest.json" in names
    assert "dushanbe-2017/SHA256SUMS.sig" in names
    assert problems == [], problems


def age_sessions(app: Flask, minutes: int) -> None:
    with app.app_context():
        then = utcnow() - timedelta(minutes=minutes)
        db_session().execute(update(UserSession).values(created_at=then, verified_at=then))
        db_session().commit()


def next_unused_step(used: float) -> float:
    """A moment whose code is for a step after `used` and accepted now (within one step)."""
    step_after = (int(used) // STEP + 1) * STEP
    if time.time() < step_after - STEP:
        time.sleep(step_after - STEP - time.time() + 0.1)
    return step_after + 1.0


def test_a_head_who_must_enrol_is_led_through_it_from_the_sign_in(
    app: Flask, web_world: WebWorld, live_url_requiring_mfa: str
) -> None:
    """Sign in, the security page says why, add the app from its QR code's secret, keep the
    recovery codes, reach the reviews; the next sign-in asks for the code, in Russian; 20 minutes
    later, approving asks to confirm it is you first."""
    live_url = live_url_requiring_mfa
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[ConsoleMessage] = []

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def opened(locale: str) -> Page:
            context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900})
            page = context.new_page()
            page.on("console", lambda m: problems.append(m) if m.type == "error" else None)
            page.goto(live_url + "/")
            page.fill("#email", USERS["head"][0])
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            return page

        def shot(page: Page, name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        head = opened("en-GB")
        head.wait_for_url("**/account/security")
        notice = head.locator(".notice").inner_text()
        assert "Your role needs a second factor before you can do anything else." in notice
        shot(head, "10-enrolment-required-en")
        head.goto(live_url + "/reviews/dushanbe-2017")
        head.wait_for_url("**/account/security")

        head.fill("#label", "phone")
        head.click("#add-authenticator ~ form button[type=submit]")
        qr = head.locator("figure.qr-code svg")
        box = qr.bounding_box()
        assert box is not None
        assert box["width"] >= 150
        secret = head.locator("#secret").inner_text().replace(" ", "")
        shot(head, "11-enrol-authenticator-en")
        now = away_from_a_step_edge()
        head.fill("#code", code_at(secret, now))
        head.click("main form button[type=submit]")
        codes = head.locator(".recovery-codes li").all_inner_texts()
        assert len(set(codes)) == 10
        shot(head, "12-recovery-codes-en")
        head.click("a.button")
        head.wait_for_url("**/reviews")
        head.goto(live_url + "/account/security")
        assert "confirmed" in head.locator("table.factors").inner_text()
        shot(head, "13-security-en")

        # Signing in again asks for the code; the security page in Russian.
        again = opened("ru-RU")
        again.wait_for_url("**/sign-in/second-factor")
        again.fill("#code", code_at(secret, now + 30))
        again.click("main button[type=submit]")
        again.wait_for_url("**/reviews")
        again.goto(live_url + "/account/security")
        assert "подтверждён" in again.locator("table.factors").inner_text()
        shot(again, "14-security-ru")

        # In agreement, with a sign-in of an hour ago: the approval waits for a fresh code.
        organiser = web_world.world.apis["organiser"]
        moved = organiser.patch("/api/v1/reviews/dushanbe-2017", json={"state": "agreement"})
        assert moved.status_code == 200
        age_sessions(app, 20)
        again.goto(live_url + "/reviews/dushanbe-2017")
        assert "старше 15 минут" in again.locator(".cards .notice").inner_text()
        shot(again, "15-review-asks-to-confirm-ru")
        again.click("form[action$='/approvals'] button")
        assert again.locator("h1").inner_text() == "Подтвердите, что это вы"
        assert "15 минут" in again.locator(".notice").inner_text()
        shot(again, "16-confirm-it-is-you-ru")
        again.fill("#code", code_at(secret, next_unused_step(now + 30)))
        again.click("main form button[type=submit]")
        again.wait_for_url(f"{live_url}/reviews/dushanbe-2017")
        again.click("form[action$='/approvals'] button")
        assert "Утверждено и подписано." in again.locator(".flash").inner_text()
        shot(again, "17-approved-after-confirming-ru")
        browser.close()
    # Chromium asks for /favicon.ico, which the site does not have, and reports the refused
    # approval's 403; anything else is a fault.
    expected = (f"{live_url}/favicon.ico", f"{live_url}/reviews/dushanbe-2017/approvals")
    faults = [(m.text, m.location) for m in problems if m.location["url"] not in expected]
    assert faults == [], faults
