"""The signature inside an SSHSIG for each accepted key type: how it is written and checked
(OpenSSH PROTOCOL and PROTOCOL.u2f; docs/formats.md, "User SSH keys")."""

from __future__ import annotations

import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from keys.ssh_keys import (
    ECDSA_P256,
    ED25519,
    SK_ED25519,
    InvalidPublicKey,
    SshPublicKey,
    parse_public_key_line,
    sk_application,
    verifying_key,
)
from keys.ssh_wire import WireReader, mpint, string

SigningKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey | RSAPrivateKey

# RSA signature algorithms by name. `ssh-rsa` (SHA-1) is refused: SHA-1 collisions are
# practical, and OpenSSH itself no longer signs with it.
RSA_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "rsa-sha2-256": hashes.SHA256(),
    "rsa-sha2-512": hashes.SHA512(),
}
# The flag a security key sets when the user touched it (PROTOCOL.u2f, SSH_SK_USER_PRESENCE_REQD).
SK_USER_PRESENT = 0x01


class SignatureError(Exception):
    """A signature is malformed, for another namespace, or does not verify."""


def check_signature(key: SshPublicKey, signature: bytes, signed: bytes) -> None:
    """Check an SSH signature blob by key over signed, or raise SignatureError."""
    reader = WireReader(signature, SignatureError)
    algorithm = reader.string().decode("ascii", "replace")
    public = verifying_key(key)
    try:
        if isinstance(public, Ed25519PublicKey):
            _expect(algorithm, key.key_type)
            raw = reader.string()
            if key.key_type == SK_ED25519:
                signed = _sk_signed(key, reader, signed)
            reader.finish("signature")
            public.verify(raw, signed)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            _expect(algorithm, ECDSA_P256)
            numbers = WireReader(reader.string(), SignatureError)
            r, s = numbers.mpint(), numbers.mpint()
            numbers.finish("signature")
            reader.finish("signature")
            public.verify(encode_dss_signature(r, s), signed, ec.ECDSA(hashes.SHA256()))
        else:
            if algorithm not in RSA_ALGORITHMS:
                raise SignatureError(
                    f"RSA signature algorithm {algorithm[:40]!r} is not accepted; "
                    f"use {' or '.join(RSA_ALGORITHMS)}"
                )
            raw = _rsa_length(reader.string(), public)
            reader.finish("signature")
            public.verify(raw, signed, padding.PKCS1v15(), RSA_ALGORITHMS[algorithm])
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("signature does not verify") from exc


def _sk_signed(key: SshPublicKey, reader: WireReader, signed: bytes) -> bytes:
    """What a security key's signature covers, refusing one made without the user's touch."""
    flags = reader.byte()
    counter = reader.uint32()
    if not flags & SK_USER_PRESENT:
        raise SignatureError("the security key signed without the user's touch")
    return sk_signed_data(sk_application(key), flags, counter, signed)


def sk_signed_data(application: bytes, flags: int, counter: int, data: bytes) -> bytes:
    """What a security key signs: SHA256(application) || flags || counter || SHA256(data)."""
    return (
        hashlib.sha256(application).digest()
        + bytes([flags])
        + struct.pack(">I", counter)
        + hashlib.sha256(data).digest()
    )


def public_key_of(key: SigningKey) -> SshPublicKey:
    """The SshPublicKey of a private key, refused as a registered key would be."""
    line = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    try:
        return parse_public_key_line(line)
    except InvalidPublicKey as exc:
        raise SignatureError(f"cannot sign with this key: {exc}") from exc


def make_signature(key: SigningKey, signed: bytes, *, rsa_algorithm: str = "rsa-sha2-512") -> bytes:
    """Sign with a key held in-process and return the SSH signature blob."""
    if isinstance(key, Ed25519PrivateKey):
        return string(ED25519.encode()) + string(key.sign(signed))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise SignatureError("ECDSA keys are accepted on P-256 only")
        r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA256())))
        return string(ECDSA_P256.encode()) + string(mpint(r) + mpint(s))
    if rsa_algorithm not in RSA_ALGORITHMS:
        raise SignatureError(f"RSA signature algorithm {rsa_algorithm!r} is not accepted")
    raw = key.sign(signed, padding.PKCS1v15(), RSA_ALGORITHMS[rsa_algorithm])
    return string(rsa_algorithm.encode()) + string(raw)


def _expect(algorithm: str, key_type: str) -> None:
    if algorithm != key_type:
        raise SignatureError(f"signature algorithm is not {key_type}")


def _rsa_length(raw: bytes, public: RSAPublicKey) -> bytes:
    """The signature at the modulus' length: OpenSSH pads a short one with zeros, as here."""
    size = (public.key_size + 7) // 8
    if len(raw) > size:
        raise SignatureError("RSA signature is longer than the key")
    return raw.rjust(size, b"\x00")
