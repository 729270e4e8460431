"""Documents LibreOffice writes, and LibreOffice's own rendering of numbering as the reference.

LibreOffice makes .docx files from the sources in tests/support/docx_sources/, and its plain
text export of a .docx shows the numbering labels it computes: both check the reader against
a second, independent implementation of Word's numbering.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from repo_store.diff import parse_blocks
from repo_store.word.reader import read_docx
from tests.support import docx_corpus

SOURCES = Path(__file__).resolve().parents[2] / "support" / "docx_sources"
# Builder cases whose rendering LibreOffice shares with Word.  Not compared: lvlRestart and isLgl
# (LibreOffice ignores both, Word and the standard do not), hidden text (its text export keeps it).
AGREEING: tuple[str, ...] = (
    "ru_law_articles",
    "ru_chapters_upper_roman",
    "ru_typed_numbers",
    "en_table",
)
AGREEING += ("ru_control_list", "ru_comments", "ru_style_linked")

LIBREOFFICE_CASES = {
    "ru_law_lists": (
        "# Закон о контроле за передачей технологий\n\nСтатья 1. Предмет регулирования\n\n"
        "1. Закон регулирует передачу технологий.\n\n2. Передачей считается:\n\nа) продажа;\n\n"
        "б) лицензия;\n\nв) обучение персонала.\n\nСтатья 2. Уполномоченный орган\n\n"
        "1. Органом является министерство.\n\nПеречень сроков приведён в таблице.\n\n"
        "| Действие | Срок |\n\n| Регистрация | 10 дней |\n\n| Выдача разрешения | 30 дней |\n",
        "О контроле за передачей технологий",
        "ru",
        ("heading", "article", "paragraph", "paragraph", "item", "item", "item", "article")
        + ("paragraph", "text", "text", "text", "text"),
    ),
    "en_act_lists": (
        "# Export Control Act\n\nI. Preliminary\n\nII. Licensing\n\n"
        "Each licence states its holder.\n\n1. An application is made in writing.\n\n"
        "a. to the authority;\n\nb. with the end-user certificate.\n\n"
        "2. The authority decides within 30 days.\n\n- Records are kept for five years.\n\n"
        "| Category | Licence |\n\n| Military | Individual |\n\n| Dual-use | Global |\n",
        "Export Control Act",
        "en",
        ("heading", "text", "text", "text", "paragraph", "text", "text", "paragraph", "item")
        + ("text", "text", "text"),
    ),
}


def soffice(tmp: Path, args: list[str]) -> None:
    binary = shutil.which("soffice")
    assert binary, "LibreOffice is a system dependency (scripts/system-deps)"
    # A profile of its own, so that another LibreOffice running on the machine does not clash.
    profile = f"-env:UserInstallation={(tmp / 'profile').as_uri()}"
    subprocess.run(
        [binary, profile, "--headless", *args, "--outdir", str(tmp)],
        capture_output=True,
        check=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LibreOffice-made .docx files and the text exports of every compared .docx."""
    tmp = tmp_path_factory.mktemp("libreoffice")
    soffice(tmp, ["--convert-to", "docx:MS Word 2007 XML", str(SOURCES / "ru_law_lists.fodt")])
    soffice(
        tmp,
        [
            "--infilter=HTML (StarWriter)",
            "--convert-to",
            "docx:MS Word 2007 XML",
            str(SOURCES / "en_act_lists.html"),
        ],
    )
    for make in docx_corpus.GOOD_CASES:
        case = make()
        if case.name in AGREEING:
            (tmp / f"{case.name}.docx").write_bytes(case.docx)
    names = [*LIBREOFFICE_CASES, *AGREEING]
    soffice(tmp, ["--convert-to", "txt:Text", *(str(tmp / f"{name}.docx") for name in names)])
    return tmp


@pytest.mark.parametrize("name", list(LIBREOFFICE_CASES))
def test_libreoffice_docx_reads_as_expected(converted: Path, name: str) -> None:
    text, title, language, kinds = LIBREOFFICE_CASES[name]
    result = read_docx((converted / f"{name}.docx").read_bytes())
    assert (result.text, result.title, result.language) == (text, title, language)
    assert tuple(block.kind for block in parse_blocks(result.text)) == kinds


def _shown_lines(stored: str) -> list[str]:
    """Stored text as LibreOffice's text export lays it out: a line per paragraph and cell."""
    lines: list[str] = []
    for block in stored.split("\n\n"):
        if block.startswith("|"):
            cells = re.split(r"(?<!\\)\|", block)[1:-1]
            lines.extend(cell.strip().replace("\\|", "|") for cell in cells)
            continue
        block = re.sub(r"^#+ ", "", block)
        lines.extend(block.split("\n"))
    return [" ".join(line.split()) for line in lines if line.strip()]


def _lines_of_export(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    # Bullets are drawn with glyphs (•, ◦); stored text writes every bullet as "-".
    return [
        re.sub(r"^[•◦▪]", "-", " ".join(line.split())) for line in text.splitlines() if line.strip()
    ]


@pytest.mark.parametrize("name", [*LIBREOFFICE_CASES, *AGREEING])
def test_labels_agree_with_libreoffice(converted: Path, name: str) -> None:
    ours = _shown_lines(read_docx((converted / f"{name}.docx").read_bytes()).text)
    assert ours == _lines_of_export(converted / f"{name}.txt")
