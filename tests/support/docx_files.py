"""Word documents made here for the API tests: plain drafts, drafts with pending tracked
changes, and hostile packages (a zip bomb, a file that is not Word at all)."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.oxml.ns import qn
from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def make_docx(paragraphs: list[str], *, title: str | None = None) -> bytes:
    """A draft whose paragraphs are typed as they are (no automatic numbering)."""
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_tracked_changes(paragraphs: list[str], insertions: int, deletions: int) -> bytes:
    """A draft whose first paragraph carries pending insertions and deletions."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    first = document.paragraphs[0]._p
    for number in range(insertions + deletions):
        kind = "w:ins" if number < insertions else "w:del"
        mark = etree.SubElement(first, qn(kind))
        mark.set(qn("w:id"), str(100 + number))
        mark.set(qn("w:author"), "Эксперт")
        mark.set(qn("w:date"), "2026-01-01T00:00:00Z")
        run = etree.SubElement(mark, qn("w:r"))
        text = etree.SubElement(run, qn("w:t" if kind == "w:ins" else "w:delText"))
        text.text = f" правка {number}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb(document_bytes: int = 400 * 1024 * 1024) -> bytes:
    """A small package whose main part unpacks to document_bytes of spaces."""
    plain = make_docx(["Статья 1. Бомба"])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            if item.filename == "word/document.xml":
                with bomb.open(item.filename, "w", force_zip64=True) as part:
                    part.write(b'<?xml version="1.0"?>')
                    chunk = b" " * (1024 * 1024)
                    for _ in range(document_bytes // len(chunk)):
                        part.write(chunk)
            else:
                bomb.writestr(item, source.read(item.filename))
    return out.getvalue()
