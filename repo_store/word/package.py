"""Open an untrusted .docx: bounded zip reading and XML parsing without entities or DTDs.

Every size is checked against ``WordLimits`` before anything is unpacked (the end of central
directory record, then each entry's declared sizes), and again while a part is streamed out, so a
package that lies about its sizes stops at the bound.  Only the parts the reader needs are ever
decompressed.  The rules are described in docs/formats.md, "Word documents in".
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from repo_store.word.errors import (
    CorruptPackage,
    EncryptedDocument,
    ExternalReference,
    MacrosPresent,
    NotWord,
    PackageTooLarge,
    XmlEntities,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE_DOCUMENT = "/officeDocument"
_WORD_MAIN_TYPES = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
)
# Relationships whose target holds text of the document: if it is outside the package (or in a
# format we do not read), the imported text would silently miss it.
_TEXT_ELSEWHERE = ("/subDocument", "/aFChunk")
_CHUNK = 64 * 1024
# Bytes of central directory allowed per entry: a docx part name is a few dozen characters.
_DIRECTORY_BYTES_PER_PART = 1024


@dataclass(frozen=True)
class WordLimits:
    """Bounds on an untrusted package; any one exceeded refuses it with 413."""

    max_file_bytes: int = 25 * 2**20  # the .docx as uploaded
    max_total_bytes: int = 250 * 2**20  # all entries unpacked, as declared
    max_part_bytes: int = 100 * 2**20  # one entry unpacked (declared and as streamed)
    max_ratio: int = 100  # unpacked / packed, for the whole file and for any part over 1 MiB
    max_parts: int = 2000  # entries in the zip


@dataclass(frozen=True)
class Relationship:
    """One relationship of a part: its type URI, target and whether the target is external."""

    type: str
    target: str
    external: bool


def _read_bounded(source: bytes | BinaryIO, limit: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise PackageTooLarge(f"The file is larger than {limit // 2**20} MiB.")
    return data


def _declared_entries(data: bytes, limits: WordLimits) -> int:
    """Read the entry count and directory size from the end record, before zipfile does."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        raise CorruptPackage("The file is not a complete zip package (it may be truncated).")
    entries, directory_size = struct.unpack_from("<HI", data, at + 10)
    locator = at - 20
    if (entries == 0xFFFF or directory_size == 0xFFFFFFFF) and locator >= 0:
        if data[locator : locator + 4] == b"PK\x06\x07":
            (record,) = struct.unpack_from("<Q", data, locator + 8)
            if data[record : record + 4] != b"PK\x06\x06" or len(data) < record + 56:
                raise CorruptPackage("The zip64 directory record is damaged.")
            entries, directory_size = struct.unpack_from("<QQ", data, record + 32)
    if entries > limits.max_parts or directory_size > limits.max_parts * _DIRECTORY_BYTES_PER_PART:
        raise PackageTooLarge(
            f"The package has {entries} parts; at most {limits.max_parts} are accepted."
        )
    return int(entries)


def _check_sizes(infos: list[zipfile.ZipInfo], packed: int, limits: WordLimits) -> None:
    if len(infos) > limits.max_parts:
        raise PackageTooLarge(f"The package has more than {limits.max_parts} parts.")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise CorruptPackage("The package has encrypted zip entries, which Word never writes.")
        if info.file_size > limits.max_part_bytes:
            raise PackageTooLarge(f"The part {info.filename} unpacks to more than the limit.")
        if info.file_size > 2**20 and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise PackageTooLarge(f"The part {info.filename} is compressed suspiciously well.")
        total += info.file_size
    if total > limits.max_total_bytes:
        raise PackageTooLarge("The package unpacks to more than the limit.")
    if total > 2**20 and total > limits.max_ratio * max(packed, 1):
        raise PackageTooLarge("The package is compressed suspiciously well (a zip bomb?).")


_PROLOG_END = re.compile(rb"<[A-Za-z_:]")


def _prolog(data: bytes) -> str:
    """The text before the root element, where a DOCTYPE would stand."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = data[:8192].decode("utf-16", errors="ignore")
        end = re.search(r"<[A-Za-z_:]", head)
        return head[: end.start() if end else len(head)]
    end_match = _PROLOG_END.search(data)
    return data[: end_match.start() if end_match else len(data)].decode("latin-1")


def _refuse_doctype(data: bytes, part: str) -> None:
    prolog = _prolog(data)
    if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
        raise XmlEntities(part)


# No DTD loaded or validated, no entity expanded, nothing fetched, libxml2's default size limits.
_SAFE_PARSING = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def parse_xml(data: bytes, part: str) -> etree._Element:
    """Parse one part with lxml: no DTD, no entity expansion, no network, default size limits."""
    _refuse_doctype(data, part)
    parser = etree.XMLParser(**_SAFE_PARSING)
    try:
        # The parser above expands no entity and loads nothing; the prolog was checked first.
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise CorruptPackage(f"The part {part} is not well-formed XML ({error.msg}).") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise XmlEntities(part)
    return root


def _target_path(base_part: str, target: str) -> str:
    """Resolve a relationship target against the folder of the part it belongs to."""
    if target.startswith("/"):
        return target.lstrip("/")
    folder = base_part.rpartition("/")[0]
    parts = [p for p in folder.split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


class WordPackage:
    """An opened, checked .docx: the main document part and the parts it relates to."""

    def __init__(self, source: bytes | BinaryIO, limits: WordLimits) -> None:
        self.limits = limits
        data = _read_bounded(source, limits.max_file_bytes)
        if data[:8] == OLE_MAGIC:
            if _ENCRYPTION_INFO in data:
                raise EncryptedDocument()
            raise NotWord(
                "This is a Word 97–2003 document (.doc) or another OLE file; save it in Word "
                "as a Word Document (.docx) and upload that."
            )
        if data[:2] != b"PK":
            raise NotWord("The file is not a Word document (.docx): it is not a zip package.")
        _declared_entries(data, limits)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            raise CorruptPackage(f"The zip package is damaged ({error}).") from None
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise CorruptPackage("The package names one part twice.")
        _check_sizes(infos, len(data), limits)
        self._names = {name.lower(): name for name in names}
        self._unpacked = 0
        self._check_macros()
        self.main_name = self._main_part_name()
        main = self.raw(self.main_name)
        if main is None:
            raise NotWord("The package has no Word document part (word/document.xml).")
        _refuse_doctype(main, self.main_name)
        self.main_xml = main
        self.relationships = self.relationships_of(self.main_name)
        for rel in self.relationships.values():
            if rel.type.endswith(_TEXT_ELSEWHERE):
                where = "outside the file" if rel.external else "in a part Word imports"
                raise ExternalReference(
                    f"Part of the document's text is kept {where} ({rel.target}); make it one "
                    "self-contained document in Word and upload it again."
                )

    def body_elements(self, body_tag: str) -> Iterator[etree._Element]:
        """Yield the main part's body children in order, each freed once the next is read.

        The document part is parsed incrementally, so that memory holds one paragraph or table
        at a time rather than the tree of the whole document.
        """
        events = etree.iterparse(io.BytesIO(self.main_xml), events=("end",), **_SAFE_PARSING)
        found_body = False
        try:
            for _, element in events:
                parent = element.getparent()
                if element.tag == body_tag:
                    found_body = True
                if parent is None or parent.tag != body_tag:
                    continue
                yield element
                element.clear()
                while element.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as error:
            raise CorruptPackage(
                f"The part {self.main_name} is not well-formed XML ({error.msg})."
            ) from None
        if not found_body:
            raise CorruptPackage("The Word document has no body.")

    def raw(self, name: str) -> bytes | None:
        """Unpack one part, counting the bytes as they come, or None when it is absent."""
        real = self._names.get(name.lower())
        if real is None:
            return None
        limit = min(self.limits.max_part_bytes, self.limits.max_total_bytes - self._unpacked)
        out = bytearray()
        try:
            with self._zip.open(real) as stream:
                while chunk := stream.read(_CHUNK):
                    out += chunk
                    if len(out) > limit:
                        raise PackageTooLarge(f"The part {real} unpacks to more than the limit.")
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as error:
            raise CorruptPackage(f"The part {real} cannot be unpacked ({error}).") from None
        self._unpacked += len(out)
        return bytes(out)

    def xml(self, name: str) -> etree._Element | None:
        """Unpack and parse one XML part, or None when it is absent."""
        data = self.raw(name)
        return None if data is None else parse_xml(data, name)

    def relationships_of(self, part: str) -> dict[str, Relationship]:
        """The relationships of a part by id; targets resolved to part names unless external."""
        folder, _, file = part.rpartition("/")
        root = self.xml(f"{folder}/_rels/{file}.rels" if folder else f"_rels/{file}.rels")
        found: dict[str, Relationship] = {}
        if root is None:
            return found
        for rel in root.iter(f"{{{_RELS_NS}}}Relationship"):
            external = rel.get("TargetMode") == "External"
            target = rel.get("Target", "")
            found[rel.get("Id", "")] = Relationship(
                rel.get("Type", ""), target if external else _target_path(part, target), external
            )
        return found

    def related(self, type_suffix: str) -> str | None:
        """The part name the main document relates to with a type ending in ``type_suffix``."""
        for rel in self.relationships.values():
            if rel.type.endswith(type_suffix) and not rel.external:
                return rel.target
        return None

    def _check_macros(self) -> None:
        if any(name.endswith("vbaproject.bin") for name in self._names):
            raise MacrosPresent()
        types = self.xml("[Content_Types].xml")
        if types is None:
            raise NotWord("The zip file is not an Office package (no [Content_Types].xml).")
        self._types = types
        for entry in types:
            if "macroenabled" in entry.get("ContentType", "").lower():
                raise MacrosPresent()

    def _main_part_name(self) -> str:
        name = "word/document.xml"
        package_rels = self.relationships_of("")
        for rel in package_rels.values():
            if rel.type.endswith(_OFFICE_DOCUMENT) and not rel.external:
                name = rel.target
        if name.lower() not in self._names:
            raise NotWord("The package has no Word document part (word/document.xml).")
        content_type = None
        for entry in self._types.iter(f"{{{_TYPES_NS}}}Override"):
            if entry.get("PartName", "").lstrip("/").lower() == name.lower():
                content_type = entry.get("ContentType")
        if content_type not in _WORD_MAIN_TYPES:
            raise NotWord(
                "The package is not a Word document (its main part is "
                f"{content_type or 'of no declared type'})."
            )
        return name
