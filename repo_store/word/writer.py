"""Write a version's stored text as a clean Word document: headings, provisions, tables, text.

Labels ("Статья 5.", "(2)", "а)") are written as typed text, not as Word's automatic
numbering, so that the document reads back as exactly the stored text (docs/decisions.md).
"""

from __future__ import annotations

from repo_store.diff.blocks import parse_blocks
from repo_store.word.layout import assemble, plain_units
from repo_store.word.ooxml import document_part, package


def text_to_docx(text: str, *, title: str | None = None, language: str | None = None) -> bytes:
    """Return the .docx of a version's text; the same text always gives the same bytes."""
    body = assemble(plain_units(parse_blocks(text)))
    return package(document_part(body), title=title, language=language)
