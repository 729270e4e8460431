"""Authoring in Debian's Chromium against a real server process: an expert uploads a Markdown
and then a Word version, a head's stale upload is told what moved on, the expert shares, and a
peer takes the redline home as .docx and .pdf."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repo_store.word.reader import read_docx
from server.schemas_word import DOCX_MEDIA_TYPE as DOCX
from tests.server.review_fixtures import LAW_V3, USERS
from tests.server.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.server.web.pages import DOC, WebWorld
from tests.server.web.test_authoring_pages import law_as_docx
from tests.support.accounts import PASSWORD
from tests.support.docx_files import with_tracked_changes

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import ConsoleMessage, FilePayload, Page, sync_playwright  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

LAW_V4 = LAW_V3 + "\nСтатья 9. Вступление в силу\n\nНастоящий Закон вступает в силу.\n"
LAW_V5 = LAW_V4.replace("вступает в силу.", "вступает в силу через десять дней.")


def test_expert_uploads_head_is_stale_peer_downloads_the_redline(
    live_url: str, web_world: WebWorld, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    v3 = web_world.versions[2]
    problems: list[ConsoleMessage] = []

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def signed_in(role: str, locale: str) -> Page:
            context = browser.new_context(
                locale=locale, viewport={"width": 1366, "height": 900}, accept_downloads=True
            )
            page = context.new_page()
            page.on("console", lambda m: problems.append(m) if m.type == "error" else None)
            page.goto(live_url + "/")
            page.fill("#email", USERS[role][0])
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/reviews")
            return page

        def shot(page: Page, name: str) -> None:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        def upload(page: Page, name: str, mime: str, body: bytes, message: str) -> None:
            form = page.locator("form.upload")
            chosen: FilePayload = {"name": name, "mimeType": mime, "buffer": body}
            form.locator("input[type=file]").set_input_files(files=[chosen])
            form.locator("textarea[name=message]").fill(message)
            form.locator("button[type=submit]").click()

        # The head opens the newest version, in Russian, and starts on an edit of it.
        head = signed_in("head", "ru-RU")
        head.goto(live_url + DOC)
        assert head.locator("#upload-title").inner_text() == "Загрузить новую версию"
        shot(head, "20-document-authoring-ru")

        # Meanwhile the expert uploads a new version as Markdown, in English, and sees it.
        own = signed_in("own", "en-GB")
        own.goto(live_url + DOC)
        shot(own, "21-document-authoring-en")
        upload(
            own, "export-law.md", "text/markdown", LAW_V4.encode(), "Article 9: entry into force"
        )
        assert "Saved the new version" in own.locator(".flash").inner_text()
        assert "Article 9: entry into force" in own.locator(".facts").inner_text()
        assert "Статья 9. Вступление в силу" in own.locator(".doc-text").inner_text()
        v4 = own.url.rsplit("version=", 1)[1]
        shot(own, "22-uploaded-md-en")

        # The head's upload is on v3, which is no longer the newest: nothing is written, and
        # the page names the newer version and offers its redline and the way to upload again.
        upload(
            head, "закон.txt", "text/plain", (LAW_V3 + "\nСтатья 10. Иное.\n").encode(), "Правка"
        )
        assert head.locator("h1").inner_text() == "Документ уже изменился"
        newer = head.locator(".facts").inner_text()
        assert v4[:12] in newer
        assert "expert@blr.example" in newer
        assert "Article 9: entry into force" in newer
        assert head.locator("form.upload input[name=base]").input_value() == v4
        assert head.locator("form.upload textarea[name=message]").input_value() == "Правка"
        shot(head, "23-stale-upload-ru")
        head.click(f"a[href*='/redline?from={v3}']")
        assert "Статья 9" in head.locator(".redline ins").first.inner_text()

        # A Word draft with its tracked changes still pending is refused, saying how many.
        head.goto(live_url + DOC)
        pending = with_tracked_changes(["Статья 1. Сфера", "Статья 2. Лицензии"], 2, 1)
        upload(head, "правки.docx", DOCX, pending, "Правка в Word")
        assert head.locator("h1").inner_text() == "Новая версия не сохранена"
        assert "вставок — 2, удалений — 1" in head.locator(".error").inner_text()
        assert head.locator("textarea[name=message]").input_value() == "Правка в Word"
        shot(head, "24-refused-docx-ru")

        # The expert uploads the next version from Word, and shares it into the review.
        upload(
            own,
            "export-law.docx",
            DOCX,
            law_as_docx(LAW_V5),
            "Ten days before entry into force",
        )
        assert "Saved the new version" in own.locator(".flash").inner_text()
        assert "через десять дней" in own.locator(".doc-text").inner_text()
        assert "export-law.docx" in own.locator("ul.attachments").inner_text()
        v5 = own.url.rsplit("version=", 1)[1]
        own.locator("form.share button[type=submit]").click()
        assert (
            "Shared version " + v5[:12] + " into Dushanbe 2017."
            in own.locator(".flash").inner_text()
        )
        shot(own, "25-uploaded-docx-shared-en")
        with own.expect_download() as download:
            own.click("dl.facts a.download")
        saved_version = tmp_path / "version.docx"
        download.value.save_as(saved_version)

        # A peer compares the two shared versions and takes the redline as .docx and .pdf.
        peer = signed_in("peer", "ru-RU")
        peer.goto(f"{live_url}{DOC}/redline?from={v3}&to={v5}")
        shot(peer, "26-redline-downloads-ru")
        saved = {}
        for fmt in ("docx", "pdf"):
            with peer.expect_download() as download:
                peer.click(f"a.download[href*='format={fmt}']")
            saved[fmt] = tmp_path / f"redline.{fmt}"
            download.value.save_as(saved[fmt])
        browser.close()

    assert "через десять дней" in read_docx(saved_version.read_bytes()).text
    accepted = read_docx(saved["docx"].read_bytes(), revisions="accept").text
    assert "через десять дней" in accepted
    assert "Статья 9" in accepted
    printed = subprocess.run(
        ["pdftotext", str(saved["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "десять" in printed
    # Chromium reports the missing favicon and the refused uploads' 409 and 422; nothing else.
    expected = (f"{live_url}/favicon.ico", f"{live_url}{DOC}/versions")
    faults = [(m.text, m.location) for m in problems if m.location["url"] not in expected]
    assert faults == [], faults
