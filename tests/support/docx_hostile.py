"""Hostile and broken .docx files for the reader's tests, each with the refusal it must get."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.docx_builder import REL, Package, paragraph, zip_parts

_GOOD_BODY = [paragraph("Статья 1. Текст")]


@dataclass(frozen=True)
class Hostile:
    """A file and the refusal expected: error class name, status and problem slug."""

    name: str
    data: bytes
    error: str
    status: int
    kind: str


def _good_parts() -> dict[str, bytes]:
    return Package(list(_GOOD_BODY)).parts()


def zip_bomb() -> bytes:
    """A good document plus a part of 300 MiB of zeros that packs to about 300 KiB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _good_parts().items():
            archive.writestr(name, data)
        with archive.open("word/media/image1.bin", "w", force_zip64=True) as stream:
            zeros = bytes(2**20)
            for _ in range(300):
                stream.write(zeros)
    return buffer.getvalue()


def ratio_bomb() -> bytes:
    """A part of 20 MiB of zeros: under the size limits, but packed a thousand to one."""
    parts = _good_parts()
    parts["word/media/image1.bin"] = bytes(20 * 2**20)
    return zip_parts(parts)


def lying_sizes() -> bytes:
    """document.xml declares 100 bytes but inflates to 50 MiB: the stream must stop at 100."""
    parts = _good_parts()
    big = b"<w:document" + b" " * (50 * 2**20) + b"/>"
    packed = zlib.compress(big, 9)[2:-4]  # raw deflate, as in a zip entry
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name != "word/document.xml":
                archive.writestr(name, data)
    # Append the lying entry by hand: local header, data, and a rewritten central directory.
    data = buffer.getvalue()
    eocd = data.rfind(b"PK\x05\x06")
    count, directory_size, directory_at = struct.unpack_from("<HII", data, eocd + 10)
    directory = data[directory_at : directory_at + directory_size]
    entry = b"word/document.xml"
    crc = zlib.crc32(big)
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(packed), 100, len(entry), 0
    )
    offset = directory_at
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(packed),
        100,
        len(name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    body = data[:directory_at] + local + entry + packed
    new_directory = directory + central + entry
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(new_directory), len(body), 0
    )
    return body + new_directory + end


def too_many_parts() -> bytes:
    parts = _good_parts()
    for index in range(3000):
        parts[f"customXml/item{index}.xml"] = b"<a/>"
    return zip_parts(parts)


def external_sub_document() -> bytes:
    rels = [("rIdSub", f"{REL}/subDocument", "file:///C:/drafts/annex.docx", True)]
    return Package(list(_GOOD_BODY), extra_rels=rels).build()


def billion_laughs() -> bytes:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    )
    parts = _good_parts()
    parts["word/document.xml"] = lol.encode()
    return zip_parts(parts)


def external_entity_doctype() -> bytes:
    """A DOCTYPE in styles.xml naming a local file as an external entity."""
    parts = _good_parts()
    parts["word/styles.xml"] = (
        b'<?xml version="1.0"?>\n<!DOCTYPE w:styles [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b'<w:style><w:name w:val="&x;"/></w:style></w:styles>'
    )
    return zip_parts(parts)


def encrypted_ole() -> bytes:
    """A compound file laid out as Word writes a password-protected document."""
    sector = 512
    header = bytearray(sector)
    struct.pack_into(
        "<8s16sHHHHH",
        header,
        0,
        bytes.fromhex("D0CF11E0A1B11AE1"),
        bytes(16),
        0x3E,
        3,
        0xFFFE,
        9,
        6,
    )
    # One FAT sector (0), the directory at sector 1, no mini FAT, DIFAT entry 0 → sector 0.
    struct.pack_into("<IIIIIII", header, 0x2C, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE)
    struct.pack_into("<II", header, 0x44, 0xFFFFFFFE, 0)
    struct.pack_into("<I", header, 0x4C, 0)
    for slot in range(1, 109):
        struct.pack_into("<I", header, 0x4C + 4 * slot, 0xFFFFFFFF)
    fat = bytearray(b"\xff" * sector)
    struct.pack_into("<II", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE)
    directory = bytearray()
    for name, kind in (("Root Entry", 5), ("EncryptionInfo", 2), ("EncryptedPackage", 2)):
        entry = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        entry[: len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded), kind, 1)
        struct.pack_into("<III", entry, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        struct.pack_into("<I", entry, 116, 0xFFFFFFFE)
        directory += entry
    directory += b"\0" * (sector - len(directory))
    return bytes(header) + bytes(fat) + bytes(directory)


def macro_enabled() -> bytes:
    package = Package(
        list(_GOOD_BODY),
        main_type="application/vnd.ms-word.document.macroEnabled.main+xml",
        extra_parts={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really"},
    )
    return package.build()


def not_a_zip() -> bytes:
    return b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


def truncated() -> bytes:
    data = Package(list(_GOOD_BODY)).build()
    return data[: len(data) // 2]


def missing_document() -> bytes:
    parts = _good_parts()
    del parts["word/document.xml"]
    return zip_parts(parts)


def spreadsheet() -> bytes:
    """An .xlsx-like package: an Office file, but not a Word one."""
    parts = {
        "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b"<workbook/>",
    }
    return zip_parts(parts)


def malformed_xml() -> bytes:
    parts = _good_parts()
    parts["word/document.xml"] = b"<w:document xmlns:w='x'><w:body><w:p></w:body>"
    return zip_parts(parts)


def deep_nesting() -> bytes:
    """XML nested far deeper than any document, which the parser's default limit stops."""
    parts = _good_parts()
    depth = 100_000
    parts["word/document.xml"] = b"<a>" * depth + b"</a>" * depth
    return zip_parts(parts)


HOSTILE: tuple[tuple[str, Callable[[], bytes], str, int, str], ...] = (
    ("zip_bomb", zip_bomb, "PackageTooLarge", 413, "docx-too-large"),
    ("ratio_bomb", ratio_bomb, "PackageTooLarge", 413, "docx-too-large"),
    ("lying_sizes", lying_sizes, "CorruptPackage", 422, "docx-corrupt"),
    ("too_many_parts", too_many_parts, "PackageTooLarge", 413, "docx-too-large"),
    (
        "external_sub_document",
        external_sub_document,
        "ExternalReference",
        422,
        "docx-external-reference",
    ),
    ("billion_laughs", billion_laughs, "XmlEntities", 422, "docx-xml-entities"),
    ("external_entity_doctype", external_entity_doctype, "XmlEntities", 422, "docx-xml-entities"),
    ("encrypted_ole", encrypted_ole, "EncryptedDocument", 422, "docx-encrypted"),
    ("macro_enabled", macro_enabled, "MacrosPresent", 422, "docx-macros"),
    ("not_a_zip", not_a_zip, "NotWord", 415, "docx-not-word"),
    ("truncated", truncated, "CorruptPackage", 422, "docx-corrupt"),
    ("missing_document", missing_document, "NotWord", 415, "docx-not-word"),
    ("spreadsheet", spreadsheet, "NotWord", 415, "docx-not-word"),
    ("malformed_xml", malformed_xml, "CorruptPackage", 422, "docx-corrupt"),
    ("deep_nesting", deep_nesting, "CorruptPackage", 422, "docx-corrupt"),
)
