"""The redline as PDF: the words, Cyrillic, numbered notes and the title come out as text (read
back with pdftotext), hostile text stays text, nothing is fetched, and the size is bounded."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import pytest
from weasyprint import HTML

from repo_store.diff import diff_texts
from server.redline.pdf import (
    DEFAULT_MAX_COST,
    FetchRefused,
    NoteReply,
    NoteThread,
    RedlineTooLong,
    RefusingFetcher,
    redline_cost,
    render_redline_pdf,
)

EN_OLD = """# Law on export control

Article 1. Scope

(1) This Law applies to exports of dual-use goods.

Article 2. Licensing

(1) An export requires a licence issued within thirty days.
"""
EN_NEW = EN_OLD.replace("thirty days", "twenty working days")


def demo(name: str) -> str:
    return resources.files("server.demo_data").joinpath(name).read_text(encoding="utf-8")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext reads it, every run of whitespace folded to one space."""
    source = tmp_path / "redline.pdf"
    source.write_bytes(pdf)
    found = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return " ".join(found.stdout.decode("utf-8").split())


def test_inserted_and_deleted_words_title_and_labels_are_in_the_pdf(tmp_path: Path) -> None:
    pdf = render_redline_pdf(
        diff_texts(EN_OLD, EN_NEW),
        title="Law on export control",
        old_label="version a1b2c3d",
        new_label="version e4f5a6b",
        language="en",
    )
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    assert "Law on export control" in text
    assert "version a1b2c3d" in text
    assert "version e4f5a6b" in text
    assert "thirty" in text  # struck, still readable
    assert "twenty working" in text
    assert re.search(r"\b1 ?/ ?1\b", text)  # page numbers
    # A heading reads as a heading, without its Markdown marks.
    assert "# Law" not in text


def test_russian_law_reads_right_with_moves_named_by_place(tmp_path: Path) -> None:
    old, new = demo("blr-export-law-v1.md"), demo("blr-export-law-v2.md")
    pdf = render_redline_pdf(
        diff_texts(old, new),
        title="Закон Республики Беларусь «Об экспортном контроле»",
        old_label="версия 1",
        new_label="версия 2",
        language="ru",
        ui="ru",
    )
    text = pdf_text(pdf, tmp_path)
    assert "Закон Республики Беларусь «Об экспортном контроле»" in text
    assert "транзита и посреднической деятельности" in text
    assert "Всеобъемлющий контроль" in text
    assert "административную или уголовную" in text
    # Article 4 became article 5: said with the document's own words, never an id.
    assert "перенумеровано, было: Статья 4" in text
    assert "вставлено" in text
    assert "art_4" not in text
    assert "# Закон" not in text


def test_notes_are_numbered_with_their_bodies_and_replies(tmp_path: Path) -> None:
    old, new = demo("blr-export-law-v1.md"), demo("blr-export-law-v2.md")
    notes = [
        NoteThread(
            number=1,
            id="c1",
            block="art_1__p1",
            quote="посреднической деятельности",
            author="Иван Петров (KAZ)",
            date="2026-11-02 10:15 UTC",
            body="Определение посредничества нужно согласовать со статьёй 2.",
            replies=(
                NoteReply("Анна Смирнова (BLR)", "2026-11-03 09:00 UTC", "Согласны, исправим."),
            ),
        ),
        NoteThread(
            number=2,
            id="c2",
            block="art_3__para_3",
            quote="not in this block",
            author="Jane Roe (UNRCPD)",
            date="2026-11-04 12:00 UTC",
            body="Suspension needs a time limit.",
        ),
        NoteThread(
            number=3,
            id="c3",
            block="art_99",
            quote="",
            author="Jane Roe (UNRCPD)",
            date="2026-11-05 12:00 UTC",
            body="On a provision this version no longer has.",
        ),
    ]
    pdf = render_redline_pdf(
        diff_texts(old, new),
        title="Закон",
        old_label="v1",
        new_label="v2",
        language="ru",
        notes=notes,
    )
    text = pdf_text(pdf, tmp_path)
    # The mark sits right after the quoted words; the second note's quote is not found, so
    # its mark ends its block.
    assert "посреднической деятельности1" in text
    assert "массового поражения.2" in text
    notes_part = text[text.index("Notes") :]
    for expected in (
        "Иван Петров (KAZ) · 2026-11-02 10:15 UTC",
        "Определение посредничества нужно согласовать со статьёй 2.",
        "Анна Смирнова (BLR) · 2026-11-03 09:00 UTC",
        "Согласны, исправим.",
        "Suspension needs a time limit.",
        "On a provision this version no longer has.",
        "not placed",
    ):
        assert expected in notes_part
    assert notes_part.index("1.") < notes_part.index("2.") < notes_part.index("3.")


HOSTILE = '<script>alert(1)</script><img src="http://127.0.0.1:{port}/x"> <style>@import url(http://127.0.0.1:{port}/c.css);</style>'


class Recorder(BaseHTTPRequestHandler):
    """Counts every request that reaches it."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def listener() -> Iterator[int]:
    Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_hostile_text_comes_out_as_text_and_fetches_nothing(tmp_path: Path, listener: int) -> None:
    payload = HOSTILE.format(port=listener)
    bidi = "Exports to \u202eliame\u202c are banned."
    new = EN_NEW.replace("dual-use goods", f"dual-use goods {payload}") + f"\n{bidi}\n"
    note = NoteThread(1, "c1", "art_1__para_1", "goods", payload, payload, payload, ())
    pdf = render_redline_pdf(
        diff_texts(EN_OLD, new),
        title=payload,
        old_label=payload,
        new_label="v2",
        language='en" onload="x',
        notes=[note],
    )
    text = pdf_text(pdf, tmp_path)
    assert "<script>alert(1)</script>" in text
    assert f'<img src="http://127.0.0.1:{listener}/x">' in text
    # The bidi controls are shown as visible marks, never left to reorder the line.
    assert "U+202E" in text
    assert "U+202C" in text
    assert "\u202e" not in text
    assert Recorder.hits == []


def test_the_fetcher_refuses_even_markup_that_asks_for_a_fetch(listener: int) -> None:
    with pytest.raises(FetchRefused):
        RefusingFetcher().fetch(f"http://127.0.0.1:{listener}/x")
    with pytest.raises(FetchRefused):
        RefusingFetcher()("file:///etc/passwd")
    # Should escaping ever fail, the fetcher still keeps WeasyPrint from reading anything.
    page = (
        f'<link rel="stylesheet" href="http://127.0.0.1:{listener}/a.css">'
        f'<img src="http://127.0.0.1:{listener}/b.png"><img src="file:///etc/passwd">'
        f'<p style="background: url(http://127.0.0.1:{listener}/c.png)">x</p>'
    )
    assert HTML(string=page, url_fetcher=RefusingFetcher()).write_pdf()
    assert Recorder.hits == []


def test_a_too_long_redline_is_refused_before_any_layout() -> None:
    paragraph = "Текст положения о контроле над экспортом товаров двойного назначения. " * 12
    old = "\n\n".join(f"Статья {n}. Заголовок\n\n{paragraph}" for n in range(1, 800))
    new = old.replace("Статья 7. Заголовок", "Статья 7. Новый заголовок")
    diff = diff_texts(old, new)
    assert redline_cost(diff) > DEFAULT_MAX_COST
    started = time.monotonic()
    with pytest.raises(RedlineTooLong) as refused:
        render_redline_pdf(diff, title="Закон", old_label="a", new_label="b", language="ru")
    assert time.monotonic() - started < 1.0
    assert refused.value.limit == DEFAULT_MAX_COST
    assert refused.value.cost == redline_cost(diff)


def test_notes_count_towards_the_bound() -> None:
    diff = diff_texts(EN_OLD, EN_NEW)
    limit = redline_cost(diff) + 100
    long_note = NoteThread(1, "c1", "art_1", "", "a", "d", "x" * 500)
    with pytest.raises(RedlineTooLong):
        render_redline_pdf(
            diff,
            title="t",
            old_label="a",
            new_label="b",
            language=None,
            notes=[long_note],
            max_cost=limit,
        )
