"""Build small .docx packages part by part, numbering.xml included, for the reader's tests.

The parts are written as WordprocessingML text and zipped with zipfile; lxml checks each XML
part is well formed before it goes in, so a mistake here fails loudly rather than as a reader bug.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DOCUMENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def run(text: str, *, hidden: bool = False) -> str:
    """One run of text; tabs and line breaks become Word's elements."""
    props = "<w:rPr><w:vanish/></w:rPr>" if hidden else ""
    pieces = []
    for index, line in enumerate(text.split("\n")):
        if index:
            pieces.append("<w:br/>")
        for part_index, part in enumerate(line.split("\t")):
            if part_index:
                pieces.append("<w:tab/>")
            if part:
                pieces.append(f'<w:t xml:space="preserve">{escape(part)}</w:t>')
    return f"<w:r>{props}{''.join(pieces)}</w:r>"


def inserted(text: str, rev: int, author: str = "Эксперт") -> str:
    """A tracked insertion of some text."""
    return (
        f'<w:ins w:id="{rev}" w:author={quoteattr(author)} w:date="2026-01-05T10:00:00Z">'
        f"{run(text)}</w:ins>"
    )


def deleted(text: str, rev: int, author: str = "Эксперт") -> str:
    """A tracked deletion of some text."""
    return (
        f'<w:del w:id="{rev}" w:author={quoteattr(author)} w:date="2026-01-05T10:00:00Z">'
        f'<w:r><w:delText xml:space="preserve">{escape(text)}</w:delText></w:r></w:del>'
    )


def paragraph(
    content: str | Sequence[str] = "",
    *,
    style: str | None = None,
    num: tuple[int, int] | None = None,
    mark: str = "",
) -> str:
    """A paragraph of plain text (a str) or of ready-made run XML (a list)."""
    props = []
    if style:
        props.append(f'<w:pStyle w:val="{style}"/>')
    if num is not None:
        props.append(f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>')
    if mark:
        props.append(f"<w:rPr>{mark}</w:rPr>")
    body = run(content) if isinstance(content, str) else "".join(content)
    ppr = f"<w:pPr>{''.join(props)}</w:pPr>" if props else ""
    return f"<w:p>{ppr}{body}</w:p>"


def table(rows: Iterable[Sequence[str]]) -> str:
    """A table of plain-text cells, one paragraph per cell (a list item makes several)."""
    out = ['<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>']
    for row in rows:
        out.append("<w:tr>")
        for cell in row:
            paragraphs = cell.split("\n\n")
            out.append("<w:tc>" + "".join(paragraph(text) for text in paragraphs) + "</w:tc>")
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


@dataclass(frozen=True)
class Lvl:
    """One numbering level: format, level text, start and optional extras."""

    fmt: str
    text: str
    start: int = 1
    restart: int | None = None
    legal: bool = False
    suffix: str | None = None
    style: str | None = None

    def xml(self, ilvl: int) -> str:
        extra = f'<w:pStyle w:val="{self.style}"/>' if self.style else ""
        if self.restart is not None:
            extra = f'<w:lvlRestart w:val="{self.restart}"/>' + extra
        if self.legal:
            extra += "<w:isLgl/>"
        suffix = f'<w:suff w:val="{self.suffix}"/>' if self.suffix else ""
        return (
            f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{self.start}"/>'
            f'<w:numFmt w:val="{self.fmt}"/>{extra}{suffix}'
            f'<w:lvlText w:val={quoteattr(self.text)}/><w:lvlJc w:val="left"/></w:lvl>'
        )


@dataclass
class Numbering:
    """numbering.xml: abstract definitions and the instances that use them."""

    abstracts: dict[int, list[Lvl]] = field(default_factory=dict)
    instances: dict[int, tuple[int, dict[int, int]]] = field(default_factory=dict)

    def xml(self) -> str:
        out = [f'{_HEAD}<w:numbering xmlns:w="{W_NS}">']
        for key, levels in self.abstracts.items():
            out.append(f'<w:abstractNum w:abstractNumId="{key}">')
            out.extend(level.xml(ilvl) for ilvl, level in enumerate(levels))
            out.append("</w:abstractNum>")
        for num_id, (abstract, starts) in self.instances.items():
            overrides = "".join(
                f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
                for ilvl, start in starts.items()
            )
            out.append(
                f'<w:num w:numId="{num_id}"><w:abstractNumId w:val="{abstract}"/>'
                f"{overrides}</w:num>"
            )
        out.append("</w:numbering>")
        return "".join(out)


def styles_xml(language: str, extra: str = "") -> str:
    """styles.xml with Normal, Title, three headings and any extra style XML."""
    headings = "".join(
        f'<w:style w:type="paragraph" w:styleId="Heading{n}"><w:name w:val="heading {n}"/>'
        f'<w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="{n - 1}"/></w:pPr></w:style>'
        for n in (1, 2, 3)
    )
    return (
        f'{_HEAD}<w:styles xmlns:w="{W_NS}"><w:docDefaults><w:rPrDefault><w:rPr>'
        f'<w:lang w:val="{language}"/></w:rPr></w:rPrDefault></w:docDefaults>'
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>'
        '</w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/>'
        f'<w:basedOn w:val="Normal"/></w:style>{headings}{extra}</w:styles>'
    )


def core_xml(title: str) -> str:
    """docProps/core.xml with a title."""
    return (
        f'{_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(title)}</dc:title></cp:coreProperties>"
    )


@dataclass
class Package:
    """Everything that goes into one .docx; ``build`` zips it."""

    body: list[str]
    numbering: Numbering | None = None
    language: str = "ru-RU"
    title: str | None = None
    extra_styles: str = ""
    extra_parts: dict[str, bytes] = field(default_factory=dict)
    extra_rels: list[tuple[str, str, str, bool]] = field(
        default_factory=list
    )  # id, type, target, ext
    main_type: str = DOCUMENT_TYPE
    extra_types: list[tuple[str, str]] = field(default_factory=list)  # part name, content type

    def parts(self) -> dict[str, bytes]:
        rels = [("rIdStyles", f"{REL}/styles", "styles.xml", False)]
        overrides = [("/word/document.xml", self.main_type)]
        overrides.append(
            (
                "/word/styles.xml",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml",
            )
        )
        parts: dict[str, str | bytes] = {
            "word/styles.xml": styles_xml(self.language, self.extra_styles)
        }
        if self.numbering is not None:
            parts["word/numbering.xml"] = self.numbering.xml()
            rels.append(("rIdNumbering", f"{REL}/numbering", "numbering.xml", False))
            overrides.append(
                (
                    "/word/numbering.xml",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml",
                )
            )
        package_rels = [("rId1", f"{REL}/officeDocument", "word/document.xml", False)]
        if self.title is not None:
            parts["docProps/core.xml"] = core_xml(self.title)
            package_rels.append(
                (
                    "rId2",
                    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
                    "core-properties",
                    "docProps/core.xml",
                    False,
                )
            )
            overrides.append(
                ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml")
            )
        rels.extend(self.extra_rels)
        overrides.extend(self.extra_types)
        parts["word/document.xml"] = (
            f'{_HEAD}<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}"><w:body>'
            + "".join(self.body)
            + "<w:sectPr/></w:body></w:document>"
        )
        parts["word/_rels/document.xml.rels"] = _rels_xml(rels)
        parts["_rels/.rels"] = _rels_xml(package_rels)
        parts["[Content_Types].xml"] = (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            + "".join(
                f"<Override PartName={quoteattr(name)} ContentType={quoteattr(kind)}/>"
                for name, kind in overrides
            )
            + "</Types>"
        )
        out: dict[str, bytes] = {}
        for name, content in parts.items():
            data = content.encode() if isinstance(content, str) else content
            etree.fromstring(data)  # a builder mistake fails here, not in the reader under test
            out[name] = data
        out.update(self.extra_parts)
        return out

    def build(self) -> bytes:
        return zip_parts(self.parts())


def _rels_xml(rels: Sequence[tuple[str, str, str, bool]]) -> str:
    body = "".join(
        f"<Relationship Id={quoteattr(rid)} Type={quoteattr(kind)} Target={quoteattr(target)}"
        + (' TargetMode="External"' if external else "")
        + "/>"
        for rid, kind, target, external in rels
    )
    return (
        f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships">{body}</Relationships>'
    )


def zip_parts(parts: dict[str, bytes]) -> bytes:
    """Zip parts in order, deflated, as Word does."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()
