"""Reading .docx drafts: the stored text, every numbering label, and the diff's blocks of it."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from repo_store.diff import parse_blocks
from repo_store.word.errors import TrackedChangesPending, WordError
from repo_store.word.reader import WordLimits, WordText, read_docx
from tests.support.docx_builder import REL, Package, paragraph, run
from tests.support.docx_corpus import (
    GOOD_CASES,
    Case,
    TrackedCase,
    ru_tracked_changes,
    ru_tracked_moves_rows,
)

CASES = [make() for make in GOOD_CASES]
TRACKED = {"edits": ru_tracked_changes(), "moves_rows": ru_tracked_moves_rows()}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_imported_text_is_exactly_what_word_shows(case: Case) -> None:
    result = read_docx(case.docx)
    assert result.text == case.text
    assert (result.title, result.language) == (case.title, case.language)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_imported_text_parses_into_the_expected_blocks(case: Case) -> None:
    kinds = tuple(block.kind for block in parse_blocks(read_docx(case.docx).text))
    assert kinds == case.kinds


def test_result_is_a_frozen_value_and_reads_from_a_stream() -> None:
    case = CASES[0]
    result = read_docx(io.BytesIO(case.docx))
    assert result == WordText(case.text, case.title, case.language)
    with pytest.raises(AttributeError):
        result.text = ""  # type: ignore[misc]


@pytest.mark.parametrize("case", list(TRACKED.values()), ids=list(TRACKED))
def test_pending_tracked_changes_are_refused_with_their_counts(case: TrackedCase) -> None:
    with pytest.raises(TrackedChangesPending) as caught:
        read_docx(case.docx)
    error = caught.value
    assert (error.insertions, error.deletions, error.formatting) == (
        case.insertions,
        case.deletions,
        case.formatting,
    )
    assert (error.status, error.kind) == (422, "docx-tracked-changes")
    assert f"{case.insertions} insertion(s) and {case.deletions} deletion(s)" in str(error)
    assert "accept or reject them in Word first" in str(error)


@pytest.mark.parametrize("mode", ["accept", "reject"])
@pytest.mark.parametrize("case", list(TRACKED.values()), ids=list(TRACKED))
def test_tracked_changes_read_as_all_accepted_or_rejected(case: TrackedCase, mode: str) -> None:
    expected = case.accepted if mode == "accept" else case.rejected
    assert read_docx(case.docx, revisions=mode).text == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["accept", "reject"])
def test_tracked_changes_agree_with_pandoc(mode: str, tmp_path: Path) -> None:
    # Only the run-level edits: pandoc keeps a paragraph's new properties when rejecting a
    # formatting change, where Word restores the old ones (and so the old numbering).
    case = TRACKED["edits"]
    pandoc = shutil.which("pandoc")
    assert pandoc, "pandoc is a system dependency (scripts/system-deps)"
    path = tmp_path / "tracked.docx"
    path.write_bytes(case.docx)
    plain = subprocess.run(
        [pandoc, f"--track-changes={mode}", "-f", "docx", "-t", "plain", "--wrap=none", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    ours = read_docx(case.docx, revisions=mode).text  # type: ignore[arg-type]
    # pandoc writes list markers and tables its own way: compare the words, in order.
    assert _words(ours) == _words(plain)


_LABEL = re.compile(r"\(?\d+[.)]|[a-zа-я]\)")


def _words(text: str) -> list[str]:
    """The words of a text, without list labels or table borders."""
    return [w for w in text.split() if re.search(r"\w", w) and not _LABEL.fullmatch(w)]


def test_formatting_changes_alone_are_pending_changes_too() -> None:
    change = (
        '<w:r><w:rPr><w:b/><w:rPrChange w:id="1" w:author="Э" w:date="2026-01-05T10:00:00Z">'
        "<w:rPr/></w:rPrChange></w:rPr><w:t>Статья 1.</w:t></w:r>"
    )
    with pytest.raises(TrackedChangesPending) as caught:
        read_docx(Package([paragraph([change])]).build())
    assert (caught.value.insertions, caught.value.deletions, caught.value.formatting) == (0, 0, 1)
    assert (
        read_docx(Package([paragraph([change])]).build(), revisions="accept").text == "Статья 1.\n"
    )


def test_links_and_templates_outside_the_file_are_ignored_not_fetched() -> None:
    rels = [
        ("rIdLink", f"{REL}/hyperlink", "http://127.0.0.1:9/never", True),
        ("rIdTpl", f"{REL}/attachedTemplate", "file:///C:/Templates/Normal.dotm", True),
        ("rIdImg", f"{REL}/image", "http://127.0.0.1:9/picture.png", True),
    ]
    docx = Package([paragraph("Article 1 Scope")], extra_rels=rels).build()
    assert read_docx(docx).text == "Article 1 Scope\n"


def test_a_stream_larger_than_the_limit_is_not_read_to_its_end() -> None:
    class Endless(io.RawIOBase):
        def __init__(self) -> None:
            self.given = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            size = len(buffer)
            buffer[:size] = b"P" * size
            self.given += size
            return size

    stream = Endless()
    with pytest.raises(WordError) as caught:
        read_docx(io.BufferedReader(stream), limits=WordLimits(max_file_bytes=2**20))
    assert caught.value.status == 413
    assert stream.given <= 2**20 + io.DEFAULT_BUFFER_SIZE * 2


def test_title_falls_back_to_the_first_heading_and_language_may_be_absent() -> None:
    docx = Package([paragraph("Body first."), paragraph("Scope", style="Heading1")], language="")
    result = read_docx(docx.build())
    assert (result.title, result.language) == ("Scope", None)
    assert result.text == "Body first.\n\n# Scope\n"


def test_a_field_left_open_is_corrupt_rather_than_text_silently_lost() -> None:
    opened = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>REF x</w:instrText></w:r>'
    )
    docx = Package([paragraph([opened]), paragraph("Статья 2. Текст")]).build()
    with pytest.raises(WordError) as caught:
        read_docx(docx)
    assert (caught.value.status, caught.value.kind) == (422, "docx-corrupt")


def test_an_unknown_revisions_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="revisions"):
        read_docx(CASES[0].docx, revisions="flatten")  # type: ignore[arg-type]


def test_title_drops_bidi_formatting_and_text_drops_control_characters() -> None:
    docx = Package([paragraph("Article 1\u0085 Scope\u009b")], title="\u202eExport Act").build()
    result = read_docx(docx)
    assert (result.title, result.text) == ("Export Act", "Article 1 Scope\n")


def test_formulas_and_bidi_containers_give_their_text() -> None:
    math = (
        '<m:oMath xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math">'
        "<m:r><m:t>E=m</m:t></m:r><m:sSup><m:e><m:r><m:t>c</m:t></m:r></m:e><m:sup><m:r>"
        "<m:t>2</m:t></m:r></m:sup></m:sSup></m:oMath>"
    )
    runs = [run("Energy "), math, '<w:dir w:val="rtl">', run(" test"), "</w:dir>"]
    assert read_docx(Package([paragraph(runs)]).build()).text == "Energy E=mc2 test\n"


def test_a_table_of_contents_is_not_imported_but_other_field_results_are() -> None:
    def field(instruction: str, result: str) -> list[str]:
        return [
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
            f'<w:r><w:instrText xml:space="preserve">{instruction}</w:instrText></w:r>',
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
            run(result),
        ]

    end = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    body = [
        # The table of contents spans paragraphs: its field begins in the first, ends in the last.
        paragraph(field(" TOC \\o 1-3 \\h ", "Статья 1. Сфера применения\t1")),
        paragraph("Статья 2. Понятия\t2"),
        paragraph([run("Статья 3. Сроки\t3"), end]),
        paragraph(['<w:fldSimple w:instr="TOC \\f">' + run("Статья 1. Копия") + "</w:fldSimple>"]),
        paragraph("Статья 1. Сфера применения"),
        paragraph([run("См. "), *field(" REF _Ref2 \\h ", "статью 2"), end, run(".")]),
    ]
    assert read_docx(Package(body).build()).text == "Статья 1. Сфера применения\n\nСм. статью 2.\n"
