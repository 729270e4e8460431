"""SSHSIG signatures (OpenSSH PROTOCOL.sshsig), made and checked in-process.

The format is described in docs/formats.md; signatures made here verify with
`ssh-keygen -Y verify` and `git verify-commit`, and theirs verify here. The envelope's wire
format is written here, the signature inside it by keys/ssh_signatures.py for each key type of
keys/ssh_keys.py; OpenSSH public keys are read and written by `cryptography`. A party signs
with Ed25519 (`sign`, `verify`); a user with any accepted type (`sign_with`, `verify_signed_by`,
`find_signer`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_public_key,
)

from keys.ssh_keys import ED25519, SshPublicKey
from keys.ssh_signatures import SignatureError as SignatureError
from keys.ssh_signatures import SigningKey, check_signature, make_signature, public_key_of
from keys.ssh_wire import WireReader, string

MAGIC = b"SSHSIG"
VERSION = 1
KEY_TYPE = ED25519.encode()
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
# ssh-keygen wraps the base64 body at 70 columns; we do the same so our output is byte-identical.
ARMOR_WIDTH = 70
HASHES = {b"sha512": hashlib.sha512, b"sha256": hashlib.sha256}


def public_key_blob(key: Ed25519PublicKey) -> bytes:
    """Return the SSH wire encoding of an Ed25519 public key."""
    return base64.b64decode(key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).split()[1])


def public_key_line(key: Ed25519PublicKey) -> str:
    """Return the OpenSSH one-line form, `ssh-ed25519 AAAA...`."""
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """Return the OpenSSH SHA256 fingerprint of a public key."""
    return SshPublicKey(ED25519, public_key_blob(key), "").fingerprint


def parse_public_key_line(line: str) -> Ed25519PublicKey:
    """Parse `ssh-ed25519 AAAA... [comment]` into a public key."""
    parts = line.split()
    if len(parts) < 2 or parts[0] != ED25519:
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


def signed_data(namespace: str, hash_name: str, message: bytes) -> bytes:
    """What the key signs for an SSHSIG over message: the namespace and the message's hash."""
    name = hash_name.encode()
    if name not in HASHES:
        raise SignatureError("unsupported SSHSIG hash algorithm")
    digest = HASHES[name](message).digest()
    return MAGIC + string(namespace.encode()) + string(b"") + string(name) + string(digest)


def armor(public_key: SshPublicKey, namespace: str, hash_name: str, signature: bytes) -> str:
    """The armored SSHSIG text (ending in a newline) around an SSH signature blob."""
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + string(public_key.blob)
        + string(namespace.encode())
        + string(b"")
        + string(hash_name.encode())
        + string(signature)
    )
    body = base64.b64encode(blob).decode()
    lines = [body[i : i + ARMOR_WIDTH] for i in range(0, len(body), ARMOR_WIDTH)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str) -> str:
    """Sign message in namespace and return the armored SSHSIG text (ending in a newline)."""
    return sign_with(key, message, namespace)


def sign_with(
    key: SigningKey,
    message: bytes,
    namespace: str,
    *,
    hash_name: str = "sha512",
    rsa_algorithm: str = "rsa-sha2-512",
) -> str:
    """Sign message in namespace with an Ed25519, P-256 or RSA key; return the armored SSHSIG."""
    if not namespace:
        raise ValueError("an SSHSIG namespace must not be empty")
    signature = make_signature(
        key, signed_data(namespace, hash_name, message), rsa_algorithm=rsa_algorithm
    )
    return armor(public_key_of(key), namespace, hash_name, signature)


@dataclass(frozen=True)
class Envelope:
    """An SSHSIG read from its armor, not yet checked."""

    public_key_blob: bytes
    namespace: bytes
    hash_name: bytes
    signature: bytes


def read_envelope(armored: str | bytes) -> Envelope:
    """Read an armored SSHSIG into its fields, refusing any malformed one."""
    text = armored.decode("ascii", "replace") if isinstance(armored, bytes) else armored
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != ARMOR_BEGIN or lines[-1] != ARMOR_END:
        raise SignatureError("not an armored SSH signature")
    try:
        blob = base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error as exc:
        raise SignatureError("signature is not base64") from exc
    reader = WireReader(blob, SignatureError)
    if reader.raw(len(MAGIC)) != MAGIC:
        raise SignatureError("bad SSHSIG magic")
    if reader.uint32() != VERSION:
        raise SignatureError("unsupported SSHSIG version")
    public_key_blob = reader.string()
    namespace = reader.string()
    reader.string()  # reserved
    hash_name = reader.string()
    signature = reader.string()
    reader.finish("signature")
    return Envelope(public_key_blob, namespace, hash_name, signature)


def _check(envelope: Envelope, key: SshPublicKey, message: bytes, namespace: str) -> None:
    if envelope.namespace != namespace.encode():
        raise SignatureError(
            f"signature is for namespace {envelope.namespace!r}, not {namespace!r}"
        )
    if envelope.hash_name not in HASHES:
        raise SignatureError("unsupported SSHSIG hash algorithm")
    signed = signed_data(namespace, envelope.hash_name.decode(), message)
    check_signature(key, envelope.signature, signed)


@dataclass(frozen=True)
class VerifiedSignature:
    """The key that made a signature that verified."""

    public_key: Ed25519PublicKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


def verify(armored: str | bytes, message: bytes, namespace: str) -> VerifiedSignature:
    """Check an armored Ed25519 SSHSIG over message in namespace; return the signing key.

    The caller decides whether that key is trusted (see allowed signers).
    """
    envelope = read_envelope(armored)
    public_key = _parse_key_blob(envelope.public_key_blob)
    _check(envelope, SshPublicKey(ED25519, envelope.public_key_blob, ""), message, namespace)
    return VerifiedSignature(public_key)


def verify_signed_by(
    armored: str | bytes, message: bytes, namespace: str, key: SshPublicKey
) -> None:
    """Check that key made the armored SSHSIG over message in namespace, or raise."""
    find_signer(armored, message, namespace, [key])


def find_signer(
    armored: str | bytes, message: bytes, namespace: str, keys: Iterable[SshPublicKey]
) -> SshPublicKey:
    """Return which of keys made the armored SSHSIG over message in namespace, or raise."""
    envelope = read_envelope(armored)
    # The envelope names its key; as `ssh-keygen -Y verify` does, that key must be one of
    # those allowed, and the signature must verify by it.
    signer = next((key for key in keys if key.blob == envelope.public_key_blob), None)
    if signer is None:
        raise SignatureError("signature is not by any of the given keys")
    _check(envelope, signer, message, namespace)
    return signer
