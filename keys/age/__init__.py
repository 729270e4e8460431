"""The age v1 file format (age-encryption.org/v1) with X25519 recipients; see docs/age-format.md."""

import os
from collections.abc import Sequence
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from keys.age.errors import (
    AgeError,
    HeaderError,
    KeyFormatError,
    NoIdentityMatched,
    PayloadError,
)
from keys.age.header import Header, Stanza, encode_header, read_header, verify_mac
from keys.age.payload import copy_stream, decrypt_payload, encrypt_payload, write_all
from keys.age.x25519 import (
    FILE_KEY_SIZE,
    STANZA_TYPE,
    check_stanza,
    generate_x25519_identity,
    identity_string,
    parse_identity,
    parse_recipient,
    recipient_string,
    unwrap_file_key,
    wrap_file_key,
)

__all__ = [
    "AgeError",
    "HeaderError",
    "KeyFormatError",
    "NoIdentityMatched",
    "PayloadError",
    "Stanza",
    "check_header",
    "decrypt",
    "encrypt",
    "generate_x25519_identity",
    "identity_string",
    "parse_identity",
    "parse_identity_file",
    "parse_recipient",
    "parse_recipients_file",
    "read_header_stanzas",
    "recipient_string",
    "rewrap_header",
]

Recipient = X25519PublicKey | str
Identity = X25519PrivateKey | str


def _recipients(recipients: Sequence[Recipient]) -> list[X25519PublicKey]:
    if isinstance(recipients, str):
        raise TypeError("recipients must be a sequence of keys, not one string")
    keys = [parse_recipient(r) if isinstance(r, str) else r for r in recipients]
    if not keys:
        raise AgeError("at least one recipient is required")
    return keys


def _identities(identities: Sequence[Identity]) -> list[X25519PrivateKey]:
    if isinstance(identities, str):
        raise TypeError("identities must be a sequence of keys, not one string")
    keys = [parse_identity(i) if isinstance(i, str) else i for i in identities]
    if not keys:
        raise AgeError("at least one identity is required")
    return keys


def _new_header(recipients: Sequence[Recipient], file_key: bytes) -> bytes:
    return encode_header([wrap_file_key(file_key, r) for r in _recipients(recipients)], file_key)


def _open_header(src: BinaryIO, identities: Sequence[Identity]) -> bytes:
    """Read the header, unwrap the file key with one of identities and verify the MAC."""
    keys = _identities(identities)
    header = read_header(src)
    x25519 = [s for s in header.stanzas if s.type == STANZA_TYPE]
    # A malformed X25519 stanza is an error even when it is not ours.
    for stanza in x25519:
        check_stanza(stanza)
    file_key = _unwrap(header, x25519, keys)
    verify_mac(header, file_key)
    return file_key


def _unwrap(header: Header, stanzas: list[Stanza], keys: list[X25519PrivateKey]) -> bytes:
    for identity in keys:
        for stanza in stanzas:
            file_key = unwrap_file_key(stanza, identity)
            if file_key is not None:
                return file_key
    raise NoIdentityMatched(
        f"none of {len(keys)} identities matches the {len(header.stanzas)} recipient stanzas"
    )


def encrypt(src: BinaryIO, dst: BinaryIO, recipients: Sequence[Recipient]) -> int:
    """Encrypt src to dst so that each of recipients can decrypt; return the plaintext size."""
    file_key = os.urandom(FILE_KEY_SIZE)
    write_all(dst, _new_header(recipients, file_key))
    return encrypt_payload(src, dst, file_key)


def decrypt(src: BinaryIO, dst: BinaryIO, identities: Sequence[Identity]) -> int:
    """Decrypt src to dst with the first of identities that matches; return the plaintext size.

    Plaintext reaches dst only after the chunks carrying it have authenticated, but a
    failure part way leaves the earlier, authenticated chunks in dst.
    """
    return decrypt_payload(src, dst, _open_header(src, identities))


def rewrap_header(
    src: BinaryIO,
    dst: BinaryIO,
    identities: Sequence[Identity],
    recipients: Sequence[Recipient],
) -> None:
    """Write src to dst readable by recipients instead, copying the payload byte for byte.

    The file key and so the payload stay the same: only the header is made anew.
    """
    file_key = _open_header(src, identities)
    write_all(dst, _new_header(recipients, file_key))
    copy_stream(src, dst)


def check_header(src: BinaryIO, identities: Sequence[Identity]) -> None:
    """Check that one of identities opens the header and its MAC verifies; read no payload."""
    _open_header(src, identities)


def read_header_stanzas(src: BinaryIO) -> tuple[Stanza, ...]:
    """Return the recipient stanzas of the header in src (its MAC is not checked: no key)."""
    return read_header(src).stanzas


def _key_lines(text: str) -> list[tuple[int, str]]:
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append((number, stripped))
    return lines


def parse_identity_file(text: str) -> list[X25519PrivateKey]:
    """Read an identity file: one `AGE-SECRET-KEY-1...` a line, `#` comments and blanks ignored."""
    identities = []
    for number, line in _key_lines(text):
        try:
            identities.append(parse_identity(line))
        except KeyFormatError:
            raise KeyFormatError(f"identity file line {number} is not an X25519 identity") from None
    if not identities:
        raise KeyFormatError("identity file holds no identities")
    return identities


def parse_recipients_file(text: str) -> list[X25519PublicKey]:
    """Read a recipients file: one `age1...` a line, `#` comments and blanks ignored."""
    recipients = []
    for number, line in _key_lines(text):
        try:
            recipients.append(parse_recipient(line))
        except KeyFormatError as error:
            raise KeyFormatError(f"recipients file line {number}: {error}") from None
    if not recipients:
        raise KeyFormatError("recipients file holds no recipients")
    return recipients
