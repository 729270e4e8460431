"""The fixed parts of a WordprocessingML package and the zip that holds them, byte for byte stable.

Everything here is the same for every document peerlex writes, except the title, the language
and whether the package carries comments.  The zip entries get one fixed timestamp so that the
same text always gives the same bytes (docs/formats.md, "Word documents out").
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from io import BytesIO
from xml.sax.saxutils import escape, quoteattr

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
W15_NS = "http://schemas.microsoft.com/office/word/2012/wordml"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# The root of every part that holds body or comment content.
WORD_ROOT_ATTRIBUTES = (
    f'xmlns:w="{W_NS}" xmlns:r="{R_NS}" xmlns:w14="{W14_NS}" xmlns:w15="{W15_NS}" '
    f'xmlns:mc="{MC_NS}" mc:Ignorable="w14 w15"'
)

# 1980-01-01, the earliest time a zip entry can carry: a fixed time makes the bytes repeatable.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Characters XML 1.0 cannot carry at all; stored text never has them (they are refused at the
# edge), but a writer must still produce a well-formed part whatever it is given.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LANG_RE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")

HEADING_LEVELS = range(1, 7)
PROVISION_STYLE = "Provision"
TABLE_STYLE = "TableGrid"


def xml_text(text: str) -> str:
    """Escape text for element content; characters XML cannot hold become U+FFFD."""
    if _NOT_XML_RE.search(text) is not None:
        text = _NOT_XML_RE.sub("\ufffd", text)
    return escape(text)


def xml_attribute(text: str) -> str:
    """Quote and escape text as an attribute value (quotes included)."""
    if _NOT_XML_RE.search(text) is not None:
        text = _NOT_XML_RE.sub("\ufffd", text)
    return quoteattr(text)


def word_date(when: datetime) -> str:
    """Spell a time as revision marks and comments want it: ISO 8601 in UTC, whole seconds."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def language_tag(language: str | None) -> str | None:
    """Return a well-formed language tag, or None for none or a malformed one."""
    if language and _LANG_RE.fullmatch(language):
        return language
    return None


def _styles(language: str | None) -> str:
    lang = f"<w:lang w:val={xml_attribute(language)}/>" if language else ""
    headings = "".join(
        f'<w:style w:type="paragraph" w:styleId="Heading{level}">'
        f'<w:name w:val="heading {level}"/><w:basedOn w:val="Normal"/>'
        f'<w:next w:val="Normal"/><w:uiPriority w:val="9"/><w:qFormat/>'
        f'<w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/>'
        f'<w:outlineLvl w:val="{level - 1}"/></w:pPr>'
        f'<w:rPr><w:b/><w:sz w:val="{max(36 - 4 * level, 22)}"/></w:rPr></w:style>'
        for level in HEADING_LEVELS
    )
    return (
        f"{_XML_DECLARATION}<w:styles {WORD_ROOT_ATTRIBUTES}>"
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        '<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:cs="Times New Roman"'
        ' w:eastAsia="Times New Roman"/>'
        f'<w:sz w:val="24"/>{lang}</w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:after="120"/></w:pPr></w:pPrDefault></w:docDefaults>'
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal">'
        '<w:name w:val="Normal"/><w:qFormat/></w:style>'
        f"{headings}"
        # Articles, chapters and parts: their label and title are typed text, shown bold and
        # kept with what follows, but not a Heading style, which a reader would take for "#".
        f'<w:style w:type="paragraph" w:styleId="{PROVISION_STYLE}">'
        '<w:name w:val="Provision"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/>'
        '<w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240"/></w:pPr>'
        "<w:rPr><w:b/></w:rPr></w:style>"
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal">'
        '<w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/>'
        '<w:tblCellMar><w:left w:w="108" w:type="dxa"/><w:right w:w="108" w:type="dxa"/>'
        "</w:tblCellMar></w:tblPr></w:style>"
        f'<w:style w:type="table" w:styleId="{TABLE_STYLE}"><w:name w:val="Table Grid"/>'
        '<w:basedOn w:val="TableNormal"/><w:tblPr><w:tblBorders>'
        + "".join(
            f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="auto"/>'
            for side in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        + "</w:tblBorders></w:tblPr></w:style>"
        '<w:style w:type="paragraph" w:styleId="CommentText"><w:name w:val="annotation text"/>'
        '<w:basedOn w:val="Normal"/><w:rPr><w:sz w:val="20"/></w:rPr></w:style>'
        '<w:style w:type="character" w:styleId="CommentReference">'
        '<w:name w:val="annotation reference"/><w:rPr><w:sz w:val="16"/></w:rPr></w:style>'
        "</w:styles>"
    )


def _content_types(with_comments: bool) -> str:
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml"
    overrides = [
        ("/word/document.xml", f"{main}.document.main+xml"),
        ("/word/styles.xml", f"{main}.styles+xml"),
        ("/word/settings.xml", f"{main}.settings+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        (
            "/docProps/app.xml",
            "application/vnd.openxmlformats-officedocument.extended-properties+xml",
        ),
    ]
    if with_comments:
        overrides.append(("/word/comments.xml", f"{main}.comments+xml"))
        overrides.append(("/word/commentsExtended.xml", f"{main}.commentsExtended+xml"))
    return (
        f"{_XML_DECLARATION}"
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides)
        + "</Types>"
    )


def _package_relationships() -> str:
    return (
        f'{_XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_DOC_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def _document_relationships(with_comments: bool) -> str:
    rels = [
        ("rId1", f"{_DOC_REL}/styles", "styles.xml"),
        ("rId2", f"{_DOC_REL}/settings", "settings.xml"),
    ]
    if with_comments:
        rels.append(("rId3", f"{_DOC_REL}/comments", "comments.xml"))
        rels.append(
            (
                "rId4",
                "http://schemas.microsoft.com/office/2011/relationships/commentsExtended",
                "commentsExtended.xml",
            )
        )
    return (
        f'{_XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">'
        + "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in rels)
        + "</Relationships>"
    )


def _core_properties(title: str | None) -> str:
    title_element = f"<dc:title>{xml_text(title)}</dc:title>" if title else ""
    return (
        f"{_XML_DECLARATION}"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"{title_element}<dc:creator>peerlex</dc:creator></cp:coreProperties>"
    )


_APP = (
    f"{_XML_DECLARATION}"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>peerlex</Application></Properties>"
)
_SETTINGS = (
    f"{_XML_DECLARATION}<w:settings {WORD_ROOT_ATTRIBUTES}>"
    '<w:defaultTabStop w:val="708"/><w:characterSpacingControl w:val="doNotCompress"/>'
    '<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/'
    'office/word" w:val="15"/></w:compat></w:settings>'
)
# A4 with 2 cm margins: the paper of the States that draft with peerlex.
SECTION = (
    '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" '
    'w:bottom="1134" w:left="1134" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>'
)


def document_part(body: Iterable[str]) -> bytes:
    """Wrap body elements (paragraphs and tables) into word/document.xml.

    An empty paragraph always ends the body: Word needs one after a final table, and with it
    the last paragraph of the text is never the document's last, whose mark cannot be deleted.
    """
    return (
        f"{_XML_DECLARATION}<w:document {WORD_ROOT_ATTRIBUTES}><w:body>"
        + "".join(body)
        + f"<w:p/>{SECTION}</w:body></w:document>"
    ).encode()


def package(
    document: bytes,
    *,
    title: str | None,
    language: str | None,
    comments: bytes | None = None,
    comments_extended: bytes | None = None,
) -> bytes:
    """Zip the parts of a .docx with fixed timestamps, so equal input gives equal bytes."""
    with_comments = comments is not None
    parts: list[tuple[str, bytes]] = [
        ("[Content_Types].xml", _content_types(with_comments).encode()),
        ("_rels/.rels", _package_relationships().encode()),
        ("docProps/core.xml", _core_properties(title).encode()),
        ("docProps/app.xml", _APP.encode()),
        ("word/document.xml", document),
        ("word/styles.xml", _styles(language_tag(language)).encode()),
        ("word/settings.xml", _SETTINGS.encode()),
        ("word/_rels/document.xml.rels", _document_relationships(with_comments).encode()),
    ]
    if comments is not None:
        parts.append(("word/comments.xml", comments))
        parts.append(("word/commentsExtended.xml", comments_extended or b""))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=6)
    return out.getvalue()


def comments_part(comments: Iterable[str]) -> bytes:
    """word/comments.xml around ``w:comment`` elements."""
    return (
        f"{_XML_DECLARATION}<w:comments {WORD_ROOT_ATTRIBUTES}>"
        + "".join(comments)
        + "</w:comments>"
    ).encode()


def comments_extended_part(entries: Iterable[str]) -> bytes:
    """word/commentsExtended.xml around ``w15:commentEx`` elements (replies' parent links)."""
    return (
        f"{_XML_DECLARATION}<w15:commentsEx {WORD_ROOT_ATTRIBUTES}>"
        + "".join(entries)
        + "</w15:commentsEx>"
    ).encode()
