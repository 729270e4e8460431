"""SSH public keys that a user registers: the types peerlex accepts, parsed strictly from the
one-line OpenSSH form (`id_ed25519.pub`), with the fingerprint `ssh-keygen -l` prints.

The accepted types and what each check refuses are listed in docs/formats.md ("User SSH keys").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_public_key,
)

from keys.protocol import BIDI_CONTROLS
from keys.ssh_wire import WireReader

ED25519 = "ssh-ed25519"
SK_ED25519 = "sk-ssh-ed25519@openssh.com"
ECDSA_P256 = "ecdsa-sha2-nistp256"
RSA = "ssh-rsa"
KEY_TYPES = (ED25519, SK_ED25519, ECDSA_P256, RSA)

MAX_LINE_BYTES = 16 * 1024
RSA_MIN_BITS = 2048
# OpenSSH's own ceiling (SSH_RSA_MAXIMUM_MODULUS_SIZE): larger keys only cost verification time.
RSA_MAX_BITS = 16384
# Types OpenSSH knows that peerlex does not take, named in the refusal so the user knows why.
_REFUSED_TYPES = {
    "ssh-dss": "DSA keys are not accepted",
    "ecdsa-sha2-nistp384": "ECDSA keys are accepted on P-256 only",
    "ecdsa-sha2-nistp521": "ECDSA keys are accepted on P-256 only",
    "sk-ecdsa-sha2-nistp256@openssh.com": "security-key ECDSA keys are not accepted",
}

VerifyingKey = Ed25519PublicKey | EllipticCurvePublicKey | RSAPublicKey


class InvalidPublicKey(ValueError):
    """A public key line that peerlex does not accept; the message says what is wrong."""


@dataclass(frozen=True)
class SshPublicKey:
    """One registered public key: its type, its SSH wire-format blob and its comment."""

    key_type: str  # one of KEY_TYPES
    blob: bytes
    comment: str

    @property
    def fingerprint(self) -> str:
        """The SHA256 fingerprint exactly as `ssh-keygen -l` prints it."""
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def line(self) -> str:
        """The key as `<type> <base64>`, without the comment."""
        return f"{self.key_type} {base64.b64encode(self.blob).decode()}"


def parse_public_key_line(line: str) -> SshPublicKey:
    """Parse one OpenSSH public key line, refusing anything but a well-formed accepted key."""
    if len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
        raise InvalidPublicKey(f"a public key line is at most {MAX_LINE_BYTES} bytes")
    # Only what a .pub file holds around and between its fields is taken as a separator: other
    # white space (a C0 separator, U+2028, a no-break space) is refused below, not skipped.
    text = line.strip(" \t\r\n")
    if text and text.splitlines() != [text]:
        raise InvalidPublicKey("give one public key line, not several lines")
    fields = re.split(r"[ \t]+", text, maxsplit=2)
    if len(fields) < 2:
        raise InvalidPublicKey("a public key line is `<type> <base64> [comment]`")
    key_type, encoded = fields[0], fields[1]
    comment = fields[2] if len(fields) == 3 else ""
    _check_type(key_type, fields)
    blob = _strict_base64(encoded)
    _check_blob(key_type, blob)
    _check_comment(comment)
    return SshPublicKey(key_type, blob, comment)


def verifying_key(key: SshPublicKey) -> VerifyingKey:
    """The `cryptography` key that checks this key's signatures (for sk keys, its Ed25519 key)."""
    loaded = load_ssh_public_key(key.line().encode())
    if not isinstance(loaded, Ed25519PublicKey | EllipticCurvePublicKey | RSAPublicKey):
        raise InvalidPublicKey(f"{key.key_type} key did not load as an accepted key")
    return loaded


def sk_application(key: SshPublicKey) -> bytes:
    """The application string a security key was made for (`ssh:` for OpenSSH)."""
    if key.key_type != SK_ED25519:
        raise InvalidPublicKey(f"{key.key_type} is not a security-key type")
    reader = WireReader(key.blob, InvalidPublicKey)
    reader.string()
    reader.string()
    return reader.string()


def _check_type(key_type: str, fields: list[str]) -> None:
    if key_type in KEY_TYPES:
        return
    if key_type in _REFUSED_TYPES:
        raise InvalidPublicKey(f"{key_type}: {_REFUSED_TYPES[key_type]}")
    if key_type.endswith("-cert-v01@openssh.com"):
        raise InvalidPublicKey("certificates are not accepted; give the plain public key")
    if any(field in KEY_TYPES or field in _REFUSED_TYPES for field in fields[1:]):
        raise InvalidPublicKey(
            "options before the key type (authorized_keys style) are not accepted"
        )
    raise InvalidPublicKey(f"unknown key type {key_type[:40]!r}; accepted: {', '.join(KEY_TYPES)}")


def _strict_base64(encoded: str) -> bytes:
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPublicKey("the key is not valid base64") from exc
    # b64decode lets unused bits be set and padding be left out in places; only the one
    # canonical spelling of a blob is taken, so one key has one line.
    if base64.b64encode(blob).decode() != encoded:
        raise InvalidPublicKey("the key is not canonical base64")
    return blob


def _check_blob(key_type: str, blob: bytes) -> None:
    reader = WireReader(blob, InvalidPublicKey)
    inner = reader.string()
    if inner != key_type.encode():
        raise InvalidPublicKey(f"the key data is not of the type the line names ({key_type})")
    if key_type in (ED25519, SK_ED25519):
        if len(reader.string()) != 32:
            raise InvalidPublicKey(f"{key_type} key is not 32 bytes")
        if key_type == SK_ED25519:
            _check_application(reader)
    elif key_type == ECDSA_P256:
        if reader.string() != b"nistp256":
            raise InvalidPublicKey("ecdsa-sha2-nistp256 key names another curve")
        reader.string()
    else:
        exponent = reader.mpint()
        modulus = reader.mpint()
        _check_rsa(exponent, modulus)
    reader.finish("public key")
    _load(key_type, blob)


def _check_application(reader: WireReader) -> None:
    try:
        application = reader.string()
    except InvalidPublicKey as exc:
        raise InvalidPublicKey("security key has no application string") from exc
    if not application.startswith(b"ssh:"):
        raise InvalidPublicKey("security key application does not start with 'ssh:'")


def _check_rsa(exponent: int, modulus: int) -> None:
    bits = modulus.bit_length()
    if bits < RSA_MIN_BITS:
        raise InvalidPublicKey(f"RSA key has {bits} bits; at least {RSA_MIN_BITS} are required")
    if bits > RSA_MAX_BITS:
        raise InvalidPublicKey(f"RSA key has {bits} bits; at most {RSA_MAX_BITS} are accepted")
    if exponent < 3 or exponent % 2 == 0 or exponent >= 2**32:
        raise InvalidPublicKey("RSA key has an unusable public exponent")


def _load(key_type: str, blob: bytes) -> None:
    """Let cryptography check the key itself (the ECDSA point on P-256, the RSA numbers)."""
    line = f"{key_type} {base64.b64encode(blob).decode()}".encode()
    try:
        key = load_ssh_public_key(line)
    except (ValueError, UnsupportedAlgorithm) as exc:
        what = "point is not on P-256" if key_type == ECDSA_P256 else "key does not load"
        raise InvalidPublicKey(f"{key_type} {what}") from exc
    if key_type == SK_ED25519:
        return  # cryptography drops the application, so the blob cannot be re-encoded
    if (
        base64.b64decode(key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).split()[1])
        != blob
    ):
        raise InvalidPublicKey(f"{key_type} key is not in its canonical encoding")


def _check_comment(comment: str) -> None:
    for char in comment:
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            raise InvalidPublicKey(
                "the comment holds a control or bidirectional formatting character"
            )
