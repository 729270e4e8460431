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
