"""Read .docx files the way the tests check them: pandoc's text, LibreOffice's PDF, the XML."""

from __future__ import annotations

import subprocess
import zipfile
from io import BytesIO
from pathlib import Path

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NS = {"w": W[1:-1]}


def pandoc_plain(data: bytes, track_changes: str | None = None) -> str:
    """The text pandoc reads from a .docx, one paragraph per line, unwrapped."""
    command = ["pandoc", "-f", "docx", "-t", "plain", "--wrap=none"]
    if track_changes:
        command.append(f"--track-changes={track_changes}")
    done = subprocess.run(command, input=data, capture_output=True, check=True, timeout=120)
    return done.stdout.decode()


def pandoc_rows(data: bytes, track_changes: str) -> list[list[str]]:
    """The table rows pandoc reads (as HTML cells), leaving out rows with no text at all.

    pandoc does not act on a row's own revision mark (``w:trPr/w:ins|w:del``): it keeps a
    rejected inserted row, or an accepted deleted one, as a row of empty cells, where Word
    removes the row.  Leaving empty rows out makes its reading comparable with Word's.
    """
    command = ["pandoc", "-f", "docx", "-t", "html", f"--track-changes={track_changes}"]
    done = subprocess.run(command, input=data, capture_output=True, check=True, timeout=120)
    html = etree.HTML(done.stdout.decode() or "<p/>")
    rows = []
    for row in html.iter("tr"):
        cells = ["".join(cell.itertext()).strip() for cell in row if cell.tag in ("td", "th")]
        if any(cells):
            rows.append(cells)
    return rows


def paragraphs_of(plain: str) -> list[str]:
    """Split pandoc's plain text into its paragraphs."""
    return [part.strip() for part in plain.split("\n\n") if part.strip()]


def opens_in_libreoffice(data: bytes, tmp_path: Path) -> Path:
    """Convert the .docx to PDF with LibreOffice (own profile) and return the PDF's path."""
    source = tmp_path / "document.docx"
    source.write_bytes(data)
    profile = tmp_path / "lo-profile"
    out = tmp_path / "pdf"
    done = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        check=False,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    pdf = out / "document.pdf"
    assert pdf.is_file()
    assert pdf.stat().st_size > 0
    return pdf


def part(data: bytes, name: str) -> etree._Element:
    """Parse one part of the package."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


def part_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return archive.namelist()


def resolved_blocks(data: bytes, revisions: str) -> list[str]:
    """Accept or reject every revision as Word does, and return the paragraphs and table rows.

    Accepting drops deleted and moved-from text and keeps inserted and moved-to text;
    rejecting does the opposite.  A paragraph whose mark is removed joins the next paragraph
    (keeping the next one's style, as Word does); a removed row goes with its cells.  Each
    paragraph comes back as "style: text", each row as "| cell | cell |".
    """
    gone = ("del", "moveFrom") if revisions == "accept" else ("ins", "moveTo")
    body = part(data, "word/document.xml").find("w:body", NS)
    assert body is not None
    out: list[str] = []
    carried = ""
    for element in body:
        if element.tag == f"{W}p":
            text = carried + _paragraph_text(element, gone)
            mark = element.find("w:pPr/w:rPr", NS)
            if mark is not None and any(mark.find(f"w:{tag}", NS) is not None for tag in gone):
                carried = text
                continue
            carried = ""
            style = element.find("w:pPr/w:pStyle", NS)
            name = style.get(f"{W}val") if style is not None else "Normal"
            if text:
                out.append(f"{name}: {text}")
        elif element.tag == f"{W}tbl":
            for row in element.iterfind("w:tr", NS):
                revised = row.find("w:trPr", NS)
                if revised is not None and any(
                    revised.find(f"w:{tag}", NS) is not None for tag in gone
                ):
                    continue
                cells = [_paragraph_text(p, gone) for p in row.iterfind("w:tc/w:p", NS)]
                out.append("| " + " | ".join(cells) + " |")
    return out


def _paragraph_text(paragraph: etree._Element, gone: tuple[str, ...]) -> str:
    parts = []
    for text in paragraph.iter(f"{W}t", f"{W}delText"):
        wrapper = text.getparent().getparent()  # w:t → w:r → w:ins | w:del | ... | w:p
        if etree.QName(wrapper).localname in gone:
            continue
        parts.append(text.text or "")
    return "".join(parts)
