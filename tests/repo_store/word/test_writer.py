"""A version as a .docx: the paragraphs, headings and tables of the stored text, read back."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import docx
import pytest

from repo_store.diff import diff_texts
from repo_store.diff.blocks import parse_blocks
from repo_store.word.layout import shape_of, shown_text, table_rows
from repo_store.word.redline import WordComment, redline_to_docx
from repo_store.word.writer import text_to_docx
from tests.repo_store.word.docx_tools import (
    NS,
    opens_in_libreoffice,
    pandoc_plain,
    paragraphs_of,
    part,
)
from tests.support.lawgen import law_versions

DEMO = Path(__file__).resolve().parents[3] / "server" / "demo_data"
DEMO_TEXTS = sorted(DEMO.glob("*.md"))

CONTROL_LIST = """# Control list

Part 1. Goods

| No. | Item | Code |
|---|---|---|
| 1.1 | Natural uranium | 0A001 |
| 1.2 | Centrifuges, rotors and bellows | 0B001 |
|  | empty first cell | 0C001 |

Article 2. Final provisions

(1) This list enters into force on the day of its publication.
"""


def _expected_paragraphs(text: str) -> list[str]:
    return [shown_text(block, shape_of(block)) for block in parse_blocks(text)]


@pytest.mark.parametrize("path", DEMO_TEXTS, ids=lambda p: p.stem)
def test_demo_text_reads_back_paragraph_by_paragraph(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert paragraphs_of(pandoc_plain(text_to_docx(text))) == _expected_paragraphs(text)


def test_generated_law_reads_back_paragraph_by_paragraph() -> None:
    _, text = law_versions(60_000, seed=7, edits=5)
    paragraphs = paragraphs_of(pandoc_plain(text_to_docx(text)))
    assert paragraphs == _expected_paragraphs(text)
    assert len(paragraphs) > 100


def test_headings_are_heading_styles_and_provisions_typed_text() -> None:
    text = (DEMO / "blr-export-law-v2.md").read_text(encoding="utf-8")
    document = docx.Document(BytesIO(text_to_docx(text, title="Закон", language="ru-RU")))
    styles = [(p.style.name if p.style else None, p.text) for p in document.paragraphs if p.text]
    assert styles[0] == (
        "Heading 1",
        "Закон Республики Беларусь «Об экспортном контроле» (проект)",
    )
    assert ("Provision", "Статья 1. Сфера применения") in styles
    # No automatic numbering anywhere: the labels are the text itself.
    assert not part(text_to_docx(text), "word/document.xml").findall(".//w:numPr", NS)
    assert document.core_properties.title == "Закон"
    lang = part(text_to_docx(text, language="ru-RU"), "word/styles.xml").find(".//w:lang", NS)
    assert lang is not None
    assert lang.get(f"{{{NS['w']}}}val") == "ru-RU"


def test_pipe_table_is_a_word_table_with_rows_and_cells() -> None:
    document = docx.Document(BytesIO(text_to_docx(CONTROL_LIST)))
    assert len(document.tables) == 1
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert rows == [
        ["No.", "Item", "Code"],
        ["1.1", "Natural uranium", "0A001"],
        ["1.2", "Centrifuges, rotors and bellows", "0B001"],
        ["", "empty first cell", "0C001"],
    ]
    header = part(text_to_docx(CONTROL_LIST), "word/document.xml").findall(
        ".//w:tr/w:trPr/w:tblHeader", NS
    )
    assert len(header) == 1
    assert [p.text for p in document.paragraphs if p.text][-1].startswith("(1) This list")


def test_same_text_gives_same_bytes_and_language_is_checked() -> None:
    text = (DEMO / "kgz-control-list-v2.md").read_text(encoding="utf-8")
    assert text_to_docx(text, title="A") == text_to_docx(text, title="A")
    assert text_to_docx(text, language='ru"><x') == text_to_docx(text)


def test_text_xml_cannot_carry_is_replaced_not_broken() -> None:
    data = text_to_docx("Article 1. A\n\nbad \x01 char & <tag>")
    assert paragraphs_of(pandoc_plain(data))[-1] == "bad \ufffd char & <tag>"


@pytest.mark.parametrize("name", ["blr-export-law-v2.md", "control-list"])
def test_opens_in_libreoffice(name: str, tmp_path: Path) -> None:
    text = CONTROL_LIST if name == "control-list" else (DEMO / name).read_text(encoding="utf-8")
    opens_in_libreoffice(text_to_docx(text, title="Test", language="ru"), tmp_path)


def test_folded_table_rows_are_found_again() -> None:
    folded = "| a | b | | --- | --- | | 1 | x \\| y | | 3 |  |"
    rows = table_rows(folded)
    assert [row.cells for row in rows] == [("a", "b"), ("1", "x | y"), ("3", "")]
    assert [row.header for row in rows] == [True, False, False]
    # Where each cell's own text starts; an escaped pipe makes a cell's text not the block's.
    assert [folded[at : at + 1] for at in rows[0].starts] == ["a", "b"]
    assert rows[1].starts[1] == -1


def test_redline_and_version_open_in_python_docx() -> None:
    old = (DEMO / "tjk-biosecurity-regulation-v1.md").read_text(encoding="utf-8")
    new = (DEMO / "tjk-biosecurity-regulation-v2.md").read_text(encoding="utf-8")
    block = next(b for b in parse_blocks(new) if b.kind == "paragraph")
    comment = WordComment("1", "TJK", datetime.now(UTC), "note", block.text[4:12], block.id)
    result = redline_to_docx(
        diff_texts(old, new), author="TJK", date=datetime.now(UTC), comments=[comment]
    )
    assert result.placed == 1
    document = docx.Document(BytesIO(result.data))
    assert len(document.paragraphs) > 5
