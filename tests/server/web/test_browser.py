"""End to end in Debian's Chromium against a real server process: comment, answer, bundle."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.server.review_fixtures import USERS
from tests.server.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.server.web.pages import DOC, WebWorld
from tests.support.accounts import PASSWORD

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, sync_playwright  # noqa: E402

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
