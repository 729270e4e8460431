"""SSHSIG signatures (OpenSSH PROTOCOL.sshsig) with Ed25519 keys, made and checked in-process.

The format is described in docs/formats.md; signatures made here verify with
`ssh-keygen -Y verify` and `git verify-commit`, and theirs verify here. The signature's wire
format is written here; OpenSSH public keys are read and written by `cryptography`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_public_key,
)

MAGIC = b"SSHSIG"
VERSION = 1
KEY_TYPE = b"ssh-ed25519"
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
# ssh-keygen wraps the base64 body at 70 columns; we do the same so our output is byte-identical.
ARMOR_WIDTH = 70
HASHES = {b"sha512": hashlib.sha512, b"sha256": hashlib.sha256}


class SignatureError(Exception):
    """A signature is malformed, for another namespace, or does not verify."""


def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


class _Reader:
    """Reads SSH wire-format fields, failing on any short or trailing data."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def raw(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise SignatureError("truncated signature")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def uint32(self) -> int:
        (value,) = struct.unpack(">I", self.raw(4))
        return int(value)

    def string(self) -> bytes:
        return self.raw(self.uint32())

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise SignatureError("trailing data in signature")


def public_key_blob(key: Ed25519PublicKey) -> bytes:
    """Return the SSH wire encoding of an Ed25519 public key."""
    return base64.b64decode(key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).split()[1])


def public_key_line(key: Ed25519PublicKey) -> str:
    """Return the OpenSSH one-line form, `ssh-ed25519 AAAA...`."""
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """Return the OpenSSH SHA256 fingerprint of a public key."""
    digest = hashlib.sha256(public_key_blob(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_public_key_line(line: str) -> Ed25519PublicKey:
    """Parse `ssh-ed25519 AAAA... [comment]` into a public key."""
    parts = line.split()
    if len(parts) < 2 or parts[0] != KEY_TYPE.decode():
        raise SignatureError("not an ssh-ed25519 public key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise SignatureError("public key is not base64") from exc
    return _parse_key_blob(blob)


def _parse_key_blob(blob: bytes) -> Ed25519PublicKey:
    """The key in an SSH wire-format key blob: only ssh-ed25519, whole, nothing after it."""
    try:
        # cryptography reads only the one-line form: the blob's type, length and end it checks.
        key = load_ssh_public_key(KEY_TYPE + b" " + base64.b64encode(blob))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureError(f"not an ssh-ed25519 public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("only ssh-ed25519 keys are accepted")
    return key


def _signed_data(namespace: bytes, hash_name: bytes, message: bytes) -> bytes:
    digest = HASHES[hash_name](message).digest()
    return MAGIC + _string(namespace) + _string(b"") + _string(hash_name) + _string(digest)


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str) -> str:
    """Sign message in namespace and return the armored SSHSIG text (ending in a newline)."""
    if not namespace:
        raise ValueError("an SSHSIG namespace must not be empty")
    ns = namespace.encode()
    signature = key.sign(_signed_data(ns, b"sha512", message))
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + _string(public_key_blob(key.public_key()))
        + _string(ns)
        + _string(b"")
        + _string(b"sha512")
        + _string(_string(KEY_TYPE) + _string(signature))
    )
    body = base64.b64encode(blob).decode()
    lines = [body[i : i + ARMOR_WIDTH] for i in range(0, len(body), ARMOR_WIDTH)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


@dataclass(frozen=True)
class VerifiedSignature:
    """The key that made a signature that verified."""

    public_key: Ed25519PublicKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


def verify(armored: str | bytes, message: bytes, namespace: str) -> VerifiedSignature:
    """Check an armored SSHSIG over message in namespace; return the signing key.

    The caller decides whether that key is trusted (see allowed signers).
    """
    text = armored.decode("ascii", "replace") if isinstance(armored, bytes) else armored
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise SignatureError("not an armored SSH signature")
    try:
        blob = base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error as exc:
        raise SignatureError("signature is not base64") from exc
    reader = _Reader(blob)
    if reader.raw(len(MAGIC)) != MAGIC:
        raise SignatureError("bad SSHSIG magic")
    if reader.uint32() != VERSION:
        raise SignatureError("unsupported SSHSIG version")
    public_key = _parse_key_blob(reader.string())
    sig_namespace = reader.string()
    reader.string()  # reserved
    hash_name = reader.string()
    sig_blob = reader.string()
    reader.finish()
    if sig_namespace != namespace.encode():
        raise SignatureError(f"signature is for namespace {sig_namespace!r}, not {namespace!r}")
    if hash_name not in HASHES:
        raise SignatureError("unsupported SSHSIG hash algorithm")
    sig_reader = _Reader(sig_blob)
    if sig_reader.string() != KEY_TYPE:
        raise SignatureError("signature algorithm is not ssh-ed25519")
    raw_signature = sig_reader.string()
    sig_reader.finish()
    try:
        public_key.verify(raw_signature, _signed_data(sig_namespace, hash_name, message))
    except InvalidSignature as exc:
        raise SignatureError("signature does not verify") from exc
    return VerifiedSignature(public_key)
