"""How a block of stored text is laid out in Word: its paragraph style, what of it is shown, tables.

Both the plain export of a version and the redline of two versions lay blocks out with these
functions, so that a redline with every change accepted is laid out exactly as the newer
version exported on its own, and with every change rejected as the older one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from repo_store.diff.blocks import Block
from repo_store.word.ooxml import PROVISION_STYLE, TABLE_STYLE, xml_text

_HEADING_RE = re.compile(r"(#{1,6})(?: |$)")
_SEPARATOR_CELL_RE = re.compile(r":?-{3,}:?")
# Text width of an A4 page with 2 cm margins, in twentieths of a point (ooxml.SECTION).
_TEXT_WIDTH = 11906 - 2 * 1134

TABLE = "table"


class Shape(NamedTuple):
    """A block's layout: its paragraph style (None: Normal; TABLE: rows of a table) and how
    many characters at its start are markup rather than shown text (the ``# `` of a heading)."""

    style: str | None
    hidden: int


class Row(NamedTuple):
    """One row of a table block: its cells' text and whether it heads the table."""

    cells: tuple[str, ...]
    header: bool


def shape_of(block: Block) -> Shape:
    """Say how a block is laid out: heading level, provision, table or plain paragraph."""
    text = block.text
    heading = _HEADING_RE.match(text)
    if heading is not None:
        return Shape(f"Heading{len(heading.group(1))}", heading.end())
    if block.kind == "article" or (block.kind == "heading" and block.label):
        return Shape(PROVISION_STYLE, 0)
    if len(text) >= 2 and text[0] == "|" and text[-1] == "|":
        return Shape(TABLE, 0)
    return Shape(None, 0)


def shown_text(block: Block, shape: Shape) -> str:
    """Return the text a reader sees in Word for the block."""
    return block.text[shape.hidden :]


def table_rows(text: str) -> list[Row]:
    """Split a table block (pipe rows, one per line, folded to one line) into rows of cells.

    Folding joined the rows with spaces, so a row ends where the cells counted so far make a
    whole row and a cell of nothing but space stands between two pipes: the smallest number
    of columns for which every row boundary falls on such an empty cell is taken.  A row of
    dashes (``| --- | --- |``) is not shown: it marks the row before it as the header.
    """
    segments = text[1:-1].split("|")
    count = len(segments)
    columns = count
    for n in range(1, count):
        if (count + 1) % (n + 1) == 0 and all(
            not segments[at].strip() for at in range(n, count, n + 1)
        ):
            columns = n
            break
    raw = [
        tuple(cell.strip() for cell in segments[at : at + columns])
        for at in range(0, count, columns + 1)
    ]
    rows: list[Row] = []
    for cells in raw:
        if cells and all(_SEPARATOR_CELL_RE.fullmatch(cell) for cell in cells):
            if rows:
                rows[-1] = Row(rows[-1].cells, True)
            continue
        rows.append(Row(cells, False))
    return rows


def run(text: str) -> str:
    """A run of plain text."""
    return f'<w:r><w:t xml:space="preserve">{xml_text(text)}</w:t></w:r>' if text else ""


def paragraph(style: str | None, content: str, mark: str = "") -> str:
    """A paragraph with a style and, in ``mark``, the revision of its paragraph mark."""
    properties = f'<w:pStyle w:val="{style}"/>' if style else ""
    if mark:
        properties += f"<w:rPr>{mark}</w:rPr>"
    if properties:
        return f"<w:p><w:pPr>{properties}</w:pPr>{content}</w:p>"
    return f"<w:p>{content}</w:p>"


def table_row(cells: Sequence[str], *, header: bool, columns: int, mark: str = "") -> str:
    """A table row from the content of its cells' paragraphs; ``mark`` revises the row."""
    properties = ""
    if columns > len(cells):
        properties += f'<w:gridAfter w:val="{columns - len(cells)}"/>'
    if header:
        properties += "<w:tblHeader/>"
    properties += mark
    width = _TEXT_WIDTH // max(columns, 1)
    cells_xml = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p>{content}</w:p></w:tc>'
        for content in cells
    )
    row_properties = f"<w:trPr>{properties}</w:trPr>" if properties else ""
    return f"<w:tr>{row_properties}{cells_xml}</w:tr>"


def table(rows: Sequence[str], columns: int) -> str:
    """A table of ``columns`` grid columns from its rows' XML."""
    width = _TEXT_WIDTH // max(columns, 1)
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for _ in range(columns))
    return (
        f'<w:tbl><w:tblPr><w:tblStyle w:val="{TABLE_STYLE}"/><w:tblW w:w="0" w:type="auto"/>'
        f'<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
        f'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


class RowXml(NamedTuple):
    """A row waiting for its table: its cells' paragraph content, header flag and revision."""

    contents: tuple[str, ...]
    header: bool
    mark: str = ""


class Unit(NamedTuple):
    """A piece of the body: a paragraph, or rows that join the rows around them into a table.

    Rows are kept apart from their table until the body is assembled because a table's grid
    depends on its widest row, which may come from a later block.
    """

    paragraph: str
    rows: tuple[RowXml, ...] = ()


def assemble(units: Iterable[Unit]) -> list[str]:
    """Turn units into body XML, joining consecutive rows into one table."""
    body: list[str] = []
    pending: list[RowXml] = []

    def flush() -> None:
        if pending:
            columns = max(len(row.contents) for row in pending) or 1
            rows = [
                table_row(row.contents, header=row.header, columns=columns, mark=row.mark)
                for row in pending
            ]
            body.append(table(rows, columns))
            pending.clear()

    for unit in units:
        if unit.rows:
            pending.extend(unit.rows)
        else:
            flush()
            body.append(unit.paragraph)
    flush()
    return body


def plain_units(blocks: Iterable[Block]) -> list[Unit]:
    """Lay out unchanged blocks: each a paragraph, or the rows of a table."""
    units: list[Unit] = []
    for block in blocks:
        shape = shape_of(block)
        if shape.style == TABLE:
            rows = tuple(
                RowXml(tuple(map(run, row.cells)), row.header) for row in table_rows(block.text)
            )
            units.append(Unit("", rows))
        else:
            units.append(Unit(paragraph(shape.style, run(shown_text(block, shape)))))
    return units
