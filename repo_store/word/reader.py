"""Read a .docx into peerlex's stored text, with Word's automatic numbering labels computed.

Paragraphs become blocks separated by blank lines; headings become ``#`` lines unless they are
articles, which stand as "Статья 5. …" lines the diff grammar reads as provisions; numbered
paragraphs start with their computed label; bullets with "- "; each table row is one block
``| cell | cell |``.  The mapping is described in docs/formats.md, "Word documents in".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, Literal

from lxml import etree

from repo_store.diff.grammar import GROUPING_PREFIXES, PROVISION_PREFIX, PROVISION_RE
from repo_store.word.errors import TrackedChangesPending, WordError
from repo_store.word.numbering import Label, NumberingCounter, NumberingDefinitions, W
from repo_store.word.package import WordLimits, WordPackage
from repo_store.word.runs import DELETED, INSERTED, Mode, ParagraphText, mark_removed
from repo_store.word.styles import Styles, numbering_of

__all__ = ["WordError", "WordLimits", "WordText", "read_docx"]

_DC = "{http://purl.org/dc/elements/1.1/}"
_FORMATTING_CHANGES = tuple(
    W + name
    for name in (
        "rPrChange",
        "pPrChange",
        "sectPrChange",
        "tblPrChange",
        "trPrChange",
        "tcPrChange",
        "tblGridChange",
        "numberingChange",
    )
)
# Every kind of space Word may hold (no-break, thin, figure…) is a plain space in stored text;
# soft hyphens and zero-width spaces are invisible and go.
_SPACES = re.compile(r"[^\S\n]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\ufeff"))
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class WordText:
    """A document read from Word: the stored text, its title and its language (BCP 47 primary)."""

    text: str
    title: str | None
    language: str | None


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text.translate(_INVISIBLE))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _is_article(line: str) -> bool:
    """Whether a heading line is an article or section, which the diff reads as a provision."""
    match = PROVISION_RE.match(line)
    if match is None:
        return False
    return PROVISION_PREFIX[match.group("kw").lower()] not in GROUPING_PREFIXES


def _count_revisions(body: etree._Element) -> tuple[int, int, int]:
    insertions = deletions = formatting = 0
    for element in body.iter(*INSERTED, *DELETED, *_FORMATTING_CHANGES):
        if element.tag in INSERTED:
            insertions += 1
        elif element.tag in DELETED:
            deletions += 1
        else:
            formatting += 1
    return insertions, deletions, formatting


class _BodyReader:
    """Walk the body once, in document order, so that numbering counts as Word counts."""

    def __init__(self, package: WordPackage, styles: Styles, mode: Mode) -> None:
        self.styles = styles
        definitions = NumberingDefinitions(package.xml(package.related("/numbering") or ""))
        definitions.resolve_links(styles.numbering_styles())
        self.definitions = definitions
        self.counter = NumberingCounter(definitions)
        self.mode = mode
        self.runs = ParagraphText(mode)
        self.first_heading: str | None = None
        self._carried = ""  # text of paragraphs whose mark the mode removes

    def read(self, container: Iterable[etree._Element], out: list[str]) -> None:
        """Append the blocks of a body, cell or content control to ``out``."""
        for child in container:
            self.read_one(child, out)

    def read_one(self, child: etree._Element, out: list[str]) -> None:
        """Append the blocks of one paragraph, table or wrapper to ``out``."""
        tag = child.tag
        if tag == W + "p":
            block = self.paragraph(child)
            if block:
                out.append(block)
        elif tag == W + "tbl":
            self.flush_carried(out)
            out.extend(self.table(child))
        elif tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                self.read(content, out)
        elif tag == W + "customXml" or (tag in INSERTED + DELETED and not self._dropped(child)):
            self.read(child, out)

    def _dropped(self, element: etree._Element) -> bool:
        return element.tag in (DELETED if self.mode == "accept" else INSERTED)

    def flush_carried(self, out: list[str]) -> None:
        """Keep the text of a paragraph whose mark went when no paragraph follows to take it."""
        if self._carried:
            text = _clean(self._carried)
            self._carried = ""
            if text:
                out.append(text)

    def _properties(self, paragraph: etree._Element) -> etree._Element | None:
        ppr = paragraph.find(W + "pPr")
        if self.mode == "reject" and ppr is not None:
            change = ppr.find(f"{W}pPrChange/{W}pPr")
            if change is not None:
                return change
        return ppr

    def _label(self, ppr: etree._Element | None, style: str | None) -> Label | None:
        direct = numbering_of(ppr)
        linked = self.styles.numbering(style)
        num_id = direct.num_id if direct is not None and direct.num_id else None
        ilvl = direct.ilvl if direct is not None else None
        source = style
        if num_id is None and linked is not None:
            num_id, source = linked.num_id, linked.source
            if ilvl is None:
                ilvl = linked.ilvl
        if not num_id or num_id == "0":
            return None  # numId 0 switches numbering off, even one a style would give
        if ilvl is None:
            # The level linked to the style that gives the numbering, else the first.
            ilvl = self.definitions.level_of_style(num_id, source or "") or 0
        return self.counter.next_label(num_id, ilvl)

    def paragraph(self, paragraph: etree._Element) -> str:
        """The block a paragraph makes ("" for none), counting its number if it has one."""
        text = self.runs.read(paragraph)
        ppr = paragraph.find(W + "pPr")
        if mark_removed(ppr, self.mode):
            self._carried += text
            return ""
        text, self._carried = self._carried + text, ""
        props = self._properties(paragraph)
        style_element = None if props is None else props.find(W + "pStyle")
        style = None if style_element is None else style_element.get(W + "val")
        label = self._label(props, style)
        body = _clean(text)
        if not body:
            # An empty numbered paragraph still shows its number, as the first cell of a
            # control list's row does; an empty bullet or paragraph shows nothing.
            return _clean(label.text) if label is not None and not label.bullet else ""
        if label is not None and label.bullet:
            return "- " + body
        # Word's tab, space or nothing after a label is one space here: the label stays a
        # marker the diff grammar reads ("1." then a space), as LibreOffice's text export has it.
        shown = "" if label is None else _clean(label.text)
        line = f"{shown} {body}" if shown else body
        level = self.styles.heading_level(style)
        if level is None:
            direct = _outline_level(props)
            level = direct + 1 if direct is not None and direct < 9 else None
        if level is None:
            return line
        if self.first_heading is None:
            self.first_heading = line.replace("\n", " ")
        if _is_article(line):
            return line
        return "#" * min(level, 6) + " " + line.replace("\n", " ")

    def table(self, table: etree._Element) -> list[str]:
        """One block per row that shows any text: ``| cell | cell |``."""
        rows: list[str] = []
        for row in table.iter(W + "tr"):
            if _nearest(row, W + "tbl") is not table:
                continue  # rows of nested tables are read inside their cell
            trpr = row.find(W + "trPr")
            if trpr is not None and any(
                self._dropped(mark) for mark in trpr if mark.tag in INSERTED + DELETED
            ):
                continue
            cells = [
                self.cell(cell) for cell in row.iter(W + "tc") if _nearest(cell, W + "tr") is row
            ]
            if any(cells):
                rows.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
        return rows

    def cell(self, cell: etree._Element) -> str:
        """The text of one cell on one line: its paragraphs joined by spaces, pipes escaped."""
        blocks: list[str] = []
        self.read(cell, blocks)
        self.flush_carried(blocks)
        text = " ".join(block.replace("\n", " ") for block in blocks)
        return text.replace("|", "\\|")


def _nearest(element: etree._Element, tag: str) -> etree._Element | None:
    """The closest ancestor with this tag (content controls may wrap rows and cells)."""
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent


def _outline_level(ppr: etree._Element | None) -> int | None:
    element = None if ppr is None else ppr.find(W + "outlineLvl")
    value = None if element is None else element.get(W + "val")
    return int(value) if value is not None and value.isdigit() else None


def _core_title(package: WordPackage) -> str | None:
    name = None
    for rel in package.relationships_of("").values():
        if rel.type.endswith("/metadata/core-properties") and not rel.external:
            name = rel.target
    root = package.xml(name or "docProps/core.xml")
    title = None if root is None else root.find(_DC + "title")
    text = _clean(title.text or "") if title is not None else ""
    return unicodedata.normalize("NFC", text.replace("\n", " ")) or None


def read_docx(
    source: bytes | BinaryIO,
    *,
    revisions: Literal["refuse", "accept", "reject"] = "refuse",
    limits: WordLimits = WordLimits(),  # noqa: B008  (frozen: one shared default is safe)
) -> WordText:
    """Read a Word package into stored text; refuse what cannot be read faithfully."""
    package = WordPackage(source, limits)
    styles = Styles(package.xml(package.related("/styles") or ""))
    reader = _BodyReader(package, styles, "reject" if revisions == "reject" else "accept")
    blocks: list[str] = []
    pending = [0, 0, 0]
    for element in package.body_elements(W + "body"):
        if revisions == "refuse":
            # Counted while streaming; nothing is returned unless all three stay zero.
            pending = [a + b for a, b in zip(pending, _count_revisions(element), strict=True)]
        reader.read_one(element, blocks)
    if any(pending):
        raise TrackedChangesPending(*pending)
    reader.flush_carried(blocks)
    text = unicodedata.normalize("NFC", "\n\n".join(blocks))
    title = _core_title(package) or (
        unicodedata.normalize("NFC", reader.first_heading) if reader.first_heading else None
    )
    return WordText(text + "\n" if text else "", title, styles.language)
