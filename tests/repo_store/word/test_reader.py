"""Reading .docx drafts: the stored text, every numbering label, and the diff's blocks of it."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from repo_store.diff import parse_blocks
from repo_store.word.errors import TrackedChangesPending, WordError
from repo_store.word.reader import WordLimits, WordText, read_docx
from tests.support.docx_builder import REL, Package, paragraph
from tests.support.docx_corpus import GOOD_CASES, Case, ru_tracked_changes

CASES = [make() for make in GOOD_CASES]


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


def test_pending_tracked_changes_are_refused_with_their_counts() -> None:
    case = ru_tracked_changes()
    with pytest.raises(TrackedChangesPending) as caught:
        read_docx(case.docx)
    error = caught.value
    assert (error.insertions, error.deletions, error.status) == (4, 4, 422)
    assert error.kind == "docx-tracked-changes"
    assert "4 insertion(s) and 4 deletion(s)" in str(error)
    assert "accept or reject them in Word first" in str(error)


@pytest.mark.parametrize("mode", ["accept", "reject"])
def test_tracked_changes_read_as_all_accepted_or_rejected(mode: str) -> None:
    case = ru_tracked_changes()
    expected = case.accepted if mode == "accept" else case.rejected
    assert read_docx(case.docx, revisions=mode).text == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["accept", "reject"])
def test_tracked_changes_agree_with_pandoc(mode: str, tmp_path: Path) -> None:
    pandoc = shutil.which("pandoc")
    assert pandoc, "pandoc is a system dependency (scripts/system-deps)"
    case = ru_tracked_changes()
    path = tmp_path / "tracked.docx"
    path.write_bytes(case.docx)
    plain = subprocess.run(
        [pandoc, f"--track-changes={mode}", "-f", "docx", "-t", "plain", "--wrap=none", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    ours = read_docx(case.docx, revisions=mode).text  # type: ignore[arg-type]
    assert ours.split() == plain.split()


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
