"""Administration in Debian's Chromium with JavaScript switched off: add and rename a party,
change a role, disable an account, all through plain forms against a real server process."""

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


def test_an_administrator_works_without_javascript(
    live_url: str, web_world: WebWorld, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []

    def shot(page: Page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="ru-RU", viewport={"width": 1366, "height": 900}, java_script_enabled=False
        )
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(live_url + "/")
        page.fill("#email", USERS["admin"][0])
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/reviews")

        page.click("header >> text=Администрирование")
        page.wait_for_url("**/admin/parties")
        page.fill("#code", "AZE")
        page.fill("#name", "Азербайджанская Республика")
        page.select_option("#kind", "state")
        page.click("form.stack button[type=submit]")
        page.wait_for_url("**/admin/parties")
        assert "Сторона AZE добавлена." in page.locator(".flash").inner_text()
        assert page.locator("#party-AZE code").count() == 1  # its signing key's fingerprint
        page.fill("#name-BLR", "Республика Беларусь")
        page.click("#party-BLR button")
        assert "Республика Беларусь" in page.locator("#party-BLR h3").inner_text()
        shot(page, "20-admin-parties-ru")

        # A bad code comes back with the reason, and the form as it was typed.
        page.fill("#code", "AZE")
        page.fill("#name", "Again")
        page.click("form.stack button[type=submit]")
        assert "уже существует" in page.locator("#admin-error").inner_text()

        page.click("nav.tabs >> text=Пользователи")
        page.wait_for_url("**/admin/users")
        row = page.locator("tr", has_text="expert@uzb.example")
        row.locator("select[name=role]").select_option("head")
        row.locator("text=Изменить роль").click()
        assert "глава делегации" in page.locator("tr", has_text="expert@uzb.example").inner_text()
        page.locator("tr", has_text="expert@uzb.example").locator("text=Отключить").click()
        assert "отключена" in page.locator(".flash").inner_text()
        shot(page, "21-admin-users-ru")
        # The last administrator cannot disable itself.
        page.locator("tr", has_text=USERS["admin"][0]).locator("text=Отключить").click()
        assert "последний действующий администратор" in page.locator("#admin-error").inner_text()
        browser.close()
    # The refused forms answer 409, which Chromium logs; nothing else may be refused or blocked.
    assert [p for p in problems if "Failed to load resource" not in p] == []
