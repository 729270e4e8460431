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
# A cell ends at a pipe the Word reader did not escape (it writes a pipe in a cell as ``\\|``).
_PIPE_RE = re.compile(r"(?<!\\)\|")
# Text width of an A4 page with 2 cm margins, in twentieths of a point (ooxml.SECTION).
_TEXT_WIDTH = 11906 - 2 * 1134

TABLE = "table"


class Shape(NamedTuple):
    """A block's layout: its paragraph style (None: Normal; TABLE: rows of a table) and how
    many characters at its start are markup rather than shown text (the ``# `` of a heading)."""

    style: str | None
    hidden: int


class Row(NamedTuple):
    """One row of a table block: its cells' text, whether it heads the table, and where each
    cell's text starts in the block's text (-1 where a cell's text is not the block's, as
    when an escaped pipe ``\\|`` shows as ``|``)."""

    cells: tuple[str, ...]
    header: bool
    starts: tuple[int, ...] = ()


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

    A block is one row unless it holds a header rule (``| --- | --- |``): folding joined the
    rows of a Markdown table with spaces, and the rule's width says where each row ends (the
    empty ``| |`` between two rows).  Without a rule the block is one row, whatever empty
    cells it has, as the Word reader writes each row.  The rule itself is not shown: it marks
    the row before it as the header.
    """
    segments = _PIPE_RE.split(text[1:-1])
    offsets = []
    at = 1
    for segment in segments:
        offsets.append(at + len(segment) - len(segment.lstrip()))
        at += len(segment) + 1
    count = len(segments)
    columns = _columns(segments)
    rows: list[Row] = []
    for first in range(0, count, columns + 1):
        cells = tuple(cell.strip() for cell in segments[first : first + columns])
        if cells and all(_SEPARATOR_CELL_RE.fullmatch(cell) for cell in cells):
            if rows:
                rows[-1] = rows[-1]._replace(header=True)
            continue
        shown = tuple(cell.replace("\\|", "|") for cell in cells)
        starts = tuple(
            offsets[first + k] if shown[k] == cells[k] else -1 for k in range(len(cells))
        )
        rows.append(Row(shown, False, starts))
    return rows


def _columns(segments: list[str]) -> int:
    """How many cells a row of the folded table has: all of them, unless a header rule shows
    several rows were folded together (a Markdown table has one under its first row)."""
    count = len(segments)
    rule = next(
        (k for k, s in enumerate(segments) if _SEPARATOR_CELL_RE.fullmatch(s.strip())), None
    )
    if rule is None or rule == 0:
        return count
    columns = rule - 1  # the header row's cells, then the empty cell between the two rows
    if (
        columns >= 1
        and not segments[columns].strip()
        and (count + 1) % (columns + 1) == 0
        and all(not segments[k].strip() for k in range(columns, count, columns + 1))
        and all(_SEPARATOR_CELL_RE.fullmatch(s.strip()) for s in segments[rule : rule + columns])
    ):
        return columns
    return count


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
