"""Security keys in Chromium with virtual authenticators (the DevTools protocol's WebAuthn
domain): enrol one, sign in with password and key, and see a copy whose counter went back
refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.review_fixtures import USERS
from tests.server.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.accounts import PASSWORD

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import CDPSession, Page, sync_playwright  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
# A security key on USB that verifies its user (a PIN) and keeps discoverable credentials.
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "usb",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def add_authenticator(devtools: CDPSession) -> str:
    added = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    found: str = added["authenticatorId"]
    return found


def credentials_of(devtools: CDPSession, authenticator: str) -> list[dict[str, Any]]:
    found = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    listed: list[dict[str, Any]] = found["credentials"]
    return listed


def test_enrol_a_key_sign_in_with_it_and_a_copy_is_refused(live_url: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # WebAuthn takes no IP address as the relying party: the browser must be at localhost.
    site = live_url.replace("127.0.0.1", "localhost")
    email = USERS["head"][0]
    problems: list[str] = []

    def shot(page: Page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def with_password(page: Page, landing: str) -> None:
        page.goto(site + "/sign-in")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(landing)

    def sign_out(page: Page) -> None:
        page.click("form[action$='/sign-out'] button")
        page.wait_for_url("**/sign-in")

    def note(message: Any) -> None:
        # A refused answer is a 422 the page handles, and the site has no favicon.ico (asked
        # for at localhost, not at an address): the browser logs both as errors.
        expected = "status of 422" in message.text or message.location["url"].endswith(".ico")
        if message.type == "error" and not expected:
            problems.append(f"{message.text} {message.location}")

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 800})
        page = context.new_page()
        page.on("console", note)
        devtools = context.new_cdp_session(page)
        devtools.send("WebAuthn.enable", {"enableUI": False})
        first = add_authenticator(devtools)

        # Enrol: the first factor comes with ten recovery codes, shown once.
        with_password(page, "**/reviews")
        page.goto(site + "/account/security-keys")
        shot(page, "security-keys-01-none")
        page.fill("#label", "blue key")
        page.click("#add-security-key")
        page.wait_for_selector("#security-key-added", state="visible")
        assert page.locator("#recovery-codes li").count() == 10
        shot(page, "security-keys-02-added")
        page.click("#security-key-added a")
        assert page.locator("tbody td").first.inner_text() == "blue key"
        shot(page, "security-keys-03-listed")
        assert len(credentials_of(devtools, first)) == 1

        # Sign out, and in again with the password and the key.
        sign_out(page)
        with_password(page, "**/sign-in/second-factor")
        shot(page, "security-keys-04-second-factor")
        page.click("#security-key")
        page.wait_for_url("**/reviews")
        used = credentials_of(devtools, first)[0]
        assert used["signCount"] >= 1

        # A copy of the credential, taken before its last use, on another authenticator.
        sign_out(page)
        copy = add_authenticator(devtools)
        devtools.send(
            "WebAuthn.addCredential",
            {"authenticatorId": copy, "credential": {**used, "signCount": 0}},
        )
        devtools.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
        with_password(page, "**/sign-in/second-factor")
        # In Russian this time: the script's messages come from the page.
        page.goto(site + "/language/ru?next=/sign-in/second-factor")
        page.click("#security-key")
        refused = page.locator("#security-key-error")
        refused.wait_for(state="visible")
        assert "Ключ безопасности не принят" in refused.inner_text()
        assert page.url.endswith("/sign-in/second-factor")
        shot(page, "security-keys-05-copy-refused-ru")
        page.goto(site + "/reviews")
        assert page.url.startswith(site + "/sign-in")
        browser.close()
    assert problems == [], problems
