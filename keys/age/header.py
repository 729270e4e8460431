"""Reading and writing the age v1 text header: stanzas, canonical base64 and the header MAC."""

import base64
import binascii
import re
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.age.errors import HeaderError

VERSION_LINE = b"age-encryption.org/v1\n"
_STANZA_PREFIX = b"-> "
_FOOTER_PREFIX = b"---"
_COLUMNS = 64
# The spec sets no limit; these bound memory on hostile input while leaving room
# for large stanza arguments (post-quantum shares run to about 1.5 KB of text).
MAX_LINE = 16 * 1024
MAX_HEADER = 4 * 1024 * 1024
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*")
_ARGUMENT = re.compile(rb"[\x21-\x7e]+")


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: its type, further arguments and decoded body."""

    type: str
    args: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class Header:
    """A parsed header, with the exact bytes its MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes


def encode_base64(data: bytes) -> bytes:
    """Encode as standard base64 without padding, as the format requires."""
    return base64.b64encode(data).rstrip(b"=")


def decode_base64(text: bytes) -> bytes:
    """Decode canonical unpadded base64, rejecting every other spelling of the same bytes."""
    if not _BASE64.fullmatch(text) or len(text) % 4 == 1:
        raise HeaderError("invalid base64 in header")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise HeaderError("invalid base64 in header") from None
    # Non-zero unused trailing bits decode fine but re-encode differently.
    if encode_base64(data) != text:
        raise HeaderError("non-canonical base64 in header")
    return data


def _read_line(src: BinaryIO, consumed: int) -> bytes:
    line = src.readline(MAX_LINE)
    if not line.endswith(b"\n"):
        if len(line) >= MAX_LINE:
            raise HeaderError("header line is too long")
        raise HeaderError("header is truncated")
    if consumed + len(line) > MAX_HEADER:
        raise HeaderError("header is too large")
    return line


def _split_args(line: bytes) -> tuple[str, ...]:
    args = line[len(_STANZA_PREFIX) : -1].split(b" ")
    for arg in args:
        if not _ARGUMENT.fullmatch(arg):
            raise HeaderError("stanza argument is empty or not printable ASCII")
    return tuple(arg.decode("ascii") for arg in args)


def read_header(src: BinaryIO) -> Header:
    """Read the header from src, leaving src positioned at the first payload byte."""
    covered = bytearray(_read_line(src, 0))
    if covered != VERSION_LINE:
        raise HeaderError("not an age v1 file (bad version line)")
    stanzas: list[Stanza] = []
    while True:
        line = _read_line(src, len(covered))
        if line.startswith(_FOOTER_PREFIX):
            fields = line[:-1].split(b" ")
            if fields[0] != _FOOTER_PREFIX or len(fields) != 2:
                raise HeaderError("malformed header MAC line")
            mac = decode_base64(fields[1])
            if len(mac) != 32:
                raise HeaderError("header MAC has the wrong length")
            covered += _FOOTER_PREFIX
            break
        if not line.startswith(_STANZA_PREFIX):
            raise HeaderError("malformed stanza line")
        covered += line
        args = _split_args(line)
        body = bytearray()
        while True:
            line = _read_line(src, len(covered))
            if body and line.startswith((_STANZA_PREFIX, _FOOTER_PREFIX)):
                raise HeaderError("stanza body ends on a full line: its short last line is missing")
            covered += line
            text = line[:-1]
            if len(text) > _COLUMNS:
                raise HeaderError("stanza body line is longer than 64 columns")
            body += decode_base64(text)
            # A full line promises another; the body ends at the first short line.
            if len(text) < _COLUMNS:
                break
        stanzas.append(Stanza(args[0], args[1:], bytes(body)))
    if not stanzas:
        raise HeaderError("header has no recipient stanzas")
    return Header(tuple(stanzas), mac, bytes(covered))


def _mac_key(file_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"header").derive(file_key)


def _compute_mac(file_key: bytes, mac_input: bytes) -> hmac.HMAC:
    mac = hmac.HMAC(_mac_key(file_key), hashes.SHA256())
    mac.update(mac_input)
    return mac


def verify_mac(header: Header, file_key: bytes) -> None:
    """Check the header MAC with the unwrapped file key, in constant time."""
    try:
        _compute_mac(file_key, header.mac_input).verify(header.mac)
    except InvalidSignature:
        raise HeaderError("header MAC does not verify") from None


def encode_header(stanzas: list[Stanza], file_key: bytes) -> bytes:
    """Serialise stanzas canonically and append the MAC made with file_key."""
    out = bytearray(VERSION_LINE)
    for stanza in stanzas:
        out += _STANZA_PREFIX + " ".join((stanza.type, *stanza.args)).encode("ascii") + b"\n"
        text = encode_base64(stanza.body)
        for start in range(0, len(text), _COLUMNS):
            out += text[start : start + _COLUMNS] + b"\n"
        if len(text) % _COLUMNS == 0:
            # The last body line must be short, so a body filling whole lines
            # (or an empty body) ends with an empty line.
            out += b"\n"
    out += _FOOTER_PREFIX
    mac = _compute_mac(file_key, bytes(out)).finalize()
    out += b" " + encode_base64(mac) + b"\n"
    return bytes(out)
