"""SSHSIG by every accepted user key type interoperates with `ssh-keygen -Y` both ways, and a
signature for another namespace, message or key, a mangled one, SHA-1 RSA and a security-key
signature made without the user's touch are refused."""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_private_key,
)

from keys import sshsig
from keys.protocol import APPROVAL_NAMESPACE, GIT_NAMESPACE
from keys.ssh_keys import SshPublicKey, parse_public_key_line
from keys.ssh_signatures import SigningKey, public_key_of, sk_signed_data
from keys.ssh_wire import string

SIGNER = "maria@mfa.example"
MESSAGE = "Статья 7. Порядок одобрения\n".encode()
KEYGEN_TYPES = {
    "ssh-ed25519": ("-t", "ed25519"),
    "ecdsa-sha2-nistp256": ("-t", "ecdsa", "-b", "256"),
    "ssh-rsa": ("-t", "rsa", "-b", "3072"),
}


def _generate(tmp_path: Path, key_type: str) -> tuple[Path, SshPublicKey]:
    path = tmp_path / "id"
    subprocess.run(
        ["ssh-keygen", "-q", *KEYGEN_TYPES[key_type], "-N", "", "-C", "", "-f", str(path)],
        check=True,
    )
    return path, parse_public_key_line(path.with_suffix(".pub").read_text())


def _keygen_sign(tmp_path: Path, key: Path, namespace: str, *options: str) -> str:
    message = tmp_path / "message"
    message.write_bytes(MESSAGE)
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", namespace, *options, str(message)],
        check=True,
        capture_output=True,
    )
    return (tmp_path / "message.sig").read_text()


def _keygen_verify(tmp_path: Path, key: SshPublicKey, armored: str, message: bytes) -> bool:
    """Whether `ssh-keygen -Y verify` accepts armored as SIGNER's signature in namespace git."""
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'{SIGNER} namespaces="{GIT_NAMESPACE}" {key.line()}\n')
    (tmp_path / "sig").write_text(armored)
    result = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", SIGNER, "-n", GIT_NAMESPACE]
        + ["-s", str(tmp_path / "sig")],
        input=message,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _other_key() -> SshPublicKey:
    return public_key_of(Ed25519PrivateKey.generate())


@pytest.mark.parametrize("key_type", list(KEYGEN_TYPES))
@pytest.mark.parametrize("hash_name", ["sha256", "sha512"])
def test_ssh_keygen_signature_verifies_with_ours(
    tmp_path: Path, key_type: str, hash_name: str
) -> None:
    path, key = _generate(tmp_path, key_type)
    armored = _keygen_sign(tmp_path, path, GIT_NAMESPACE, "-O", f"hashalg={hash_name}")
    sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, key)
    assert sshsig.find_signer(armored, MESSAGE, GIT_NAMESPACE, [_other_key(), key]) == key
    assert sshsig.read_envelope(armored).hash_name == hash_name.encode()
    with pytest.raises(sshsig.SignatureError, match="namespace"):
        sshsig.verify_signed_by(armored, MESSAGE, APPROVAL_NAMESPACE, key)
    with pytest.raises(sshsig.SignatureError, match="does not verify"):
        sshsig.verify_signed_by(armored, MESSAGE + b"!", GIT_NAMESPACE, key)
    with pytest.raises(sshsig.SignatureError, match="not by any of the given keys"):
        sshsig.find_signer(armored, MESSAGE, GIT_NAMESPACE, [_other_key()])


def test_ssh_keygen_signs_rsa_with_sha2_512(tmp_path: Path) -> None:
    """ssh-keygen 9.2 signs SSHSIG with rsa-sha2-512 whatever the hashalg; both are checked."""
    path, _ = _generate(tmp_path, "ssh-rsa")
    armored = _keygen_sign(tmp_path, path, GIT_NAMESPACE, "-O", "hashalg=sha256")
    signature = sshsig.read_envelope(armored).signature
    assert signature[4 : 4 + len(b"rsa-sha2-512")] == b"rsa-sha2-512"


def _private(path: Path) -> SigningKey:
    key = load_ssh_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    return key


@pytest.mark.parametrize(
    ("key_type", "hash_name", "rsa_algorithm"),
    [
        ("ssh-ed25519", "sha512", "rsa-sha2-512"),
        ("ssh-ed25519", "sha256", "rsa-sha2-512"),
        ("ecdsa-sha2-nistp256", "sha512", "rsa-sha2-512"),
        ("ecdsa-sha2-nistp256", "sha256", "rsa-sha2-512"),
        ("ssh-rsa", "sha512", "rsa-sha2-512"),
        ("ssh-rsa", "sha512", "rsa-sha2-256"),
        ("ssh-rsa", "sha256", "rsa-sha2-256"),
    ],
)
def test_our_signature_verifies_with_ssh_keygen(
    tmp_path: Path, key_type: str, hash_name: str, rsa_algorithm: str
) -> None:
    path, key = _generate(tmp_path, key_type)
    armored = sshsig.sign_with(
        _private(path), MESSAGE, GIT_NAMESPACE, hash_name=hash_name, rsa_algorithm=rsa_algorithm
    )
    assert _keygen_verify(tmp_path, key, armored, MESSAGE)
    assert not _keygen_verify(tmp_path, key, armored, MESSAGE + b"!")
    sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, key)
    approval = sshsig.sign_with(_private(path), MESSAGE, APPROVAL_NAMESPACE)
    assert not _keygen_verify(tmp_path, key, approval, MESSAGE)


def _mangled(armored: str) -> list[str]:
    lines = armored.splitlines()
    body = "".join(lines[1:-1])
    flipped = body[:60] + ("A" if body[60] != "A" else "B") + body[61:]
    last = base64.b64decode(body)
    tail = bytearray(last)
    tail[-5] ^= 0x40
    return [
        "\n".join([lines[0], body[: len(body) // 2], lines[-1]]),  # truncated
        "\n".join([lines[0], flipped, lines[-1]]),  # garbled in the key or namespace
        "\n".join([lines[0], base64.b64encode(bytes(tail)).decode(), lines[-1]]),  # signature
        "\n".join([lines[0], base64.b64encode(last[:-3]).decode(), lines[-1]]),  # cut short
        "\n".join([lines[0], base64.b64encode(last + b"\0").decode(), lines[-1]]),  # extra byte
    ]


@pytest.mark.parametrize("key_type", list(KEYGEN_TYPES))
def test_truncated_or_garbled_signature_is_refused(tmp_path: Path, key_type: str) -> None:
    path, key = _generate(tmp_path, key_type)
    armored = sshsig.sign_with(_private(path), MESSAGE, GIT_NAMESPACE)
    for mangled in _mangled(armored):
        with pytest.raises(sshsig.SignatureError):
            sshsig.verify_signed_by(mangled, MESSAGE, GIT_NAMESPACE, key)


def test_signature_by_another_key_of_the_same_type_is_refused() -> None:
    signer, other = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    armored = sshsig.sign_with(signer, MESSAGE, GIT_NAMESPACE)
    with pytest.raises(sshsig.SignatureError, match="not by any"):
        sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, public_key_of(other))
    # The envelope naming the other key does not help: the signature is checked by that key.
    forged = sshsig.armor(
        public_key_of(other), GIT_NAMESPACE, "sha512", sshsig.read_envelope(armored).signature
    )
    with pytest.raises(sshsig.SignatureError, match="does not verify"):
        sshsig.verify_signed_by(forged, MESSAGE, GIT_NAMESPACE, public_key_of(other))


def test_sha1_rsa_signature_is_refused() -> None:
    key = rsa.generate_private_key(65537, 2048)
    signed = sshsig.signed_data(GIT_NAMESPACE, "sha512", MESSAGE)
    # S303: SHA-1 is made here only to show that it is refused.
    raw = key.sign(signed, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    armored = sshsig.armor(
        public_key_of(key), GIT_NAMESPACE, "sha512", string(b"ssh-rsa") + string(raw)
    )
    with pytest.raises(sshsig.SignatureError, match="'ssh-rsa' is not accepted"):
        sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, public_key_of(key))
    with pytest.raises(sshsig.SignatureError, match="not accepted"):
        sshsig.sign_with(key, MESSAGE, GIT_NAMESPACE, rsa_algorithm="ssh-rsa")


def test_other_sshsig_hash_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(sshsig.SignatureError, match="hash algorithm"):
        sshsig.sign_with(key, MESSAGE, GIT_NAMESPACE, hash_name="sha1")
    signature = sshsig.read_envelope(sshsig.sign_with(key, MESSAGE, GIT_NAMESPACE)).signature
    armored = sshsig.armor(public_key_of(key), GIT_NAMESPACE, "sha384", signature)
    with pytest.raises(sshsig.SignatureError, match="hash algorithm"):
        sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, public_key_of(key))


def test_signing_with_a_key_peerlex_does_not_accept_is_refused() -> None:
    with pytest.raises(sshsig.SignatureError, match="P-256 only"):
        sshsig.sign_with(ec.generate_private_key(ec.SECP384R1()), MESSAGE, GIT_NAMESPACE)


def _security_key_signature(
    device: Ed25519PrivateKey, message: bytes, *, flags: int, counter: int = 7
) -> tuple[SshPublicKey, str]:
    """A key and SSHSIG made as a FIDO security key makes them (OpenSSH PROTOCOL.u2f)."""
    raw = device.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_type = b"sk-ssh-ed25519@openssh.com"
    blob = string(key_type) + string(raw) + string(b"ssh:")
    key = parse_public_key_line(f"{key_type.decode()} {base64.b64encode(blob).decode()}")
    signed = sshsig.signed_data(GIT_NAMESPACE, "sha512", message)
    device_signature = device.sign(sk_signed_data(b"ssh:", flags, counter, signed))
    signature = string(key_type) + string(device_signature) + bytes([flags])
    signature += struct.pack(">I", counter)
    return key, sshsig.armor(key, GIT_NAMESPACE, "sha512", signature)


def test_security_key_signature_with_user_presence_verifies(tmp_path: Path) -> None:
    device = Ed25519PrivateKey.generate()
    key, armored = _security_key_signature(device, MESSAGE, flags=0x01)
    assert _keygen_verify(tmp_path, key, armored, MESSAGE)
    sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, key)
    assert not _keygen_verify(tmp_path, key, armored, MESSAGE + b"!")
    with pytest.raises(sshsig.SignatureError, match="does not verify"):
        sshsig.verify_signed_by(armored, MESSAGE + b"!", GIT_NAMESPACE, key)
    with pytest.raises(sshsig.SignatureError, match="namespace"):
        sshsig.verify_signed_by(armored, MESSAGE, APPROVAL_NAMESPACE, key)
    # user verified (0x04) on top of presence is accepted too.
    key, armored = _security_key_signature(device, MESSAGE, flags=0x05, counter=8)
    assert _keygen_verify(tmp_path, key, armored, MESSAGE)
    sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, key)


def test_security_key_signature_without_user_presence_is_refused(tmp_path: Path) -> None:
    key, armored = _security_key_signature(Ed25519PrivateKey.generate(), MESSAGE, flags=0x00)
    # The signature is otherwise sound: OpenSSH checks it and finds it good. (`ssh-keygen -Y
    # verify` 9.2 does not ask for the touch either; peerlex is stricter, docs/formats.md.)
    (tmp_path / "sig").write_text(armored)
    sound = subprocess.run(
        ["ssh-keygen", "-Y", "check-novalidate", "-n", GIT_NAMESPACE, "-s", str(tmp_path / "sig")],
        input=MESSAGE,
        capture_output=True,
        check=False,
    )
    assert sound.returncode == 0, sound.stderr
    with pytest.raises(sshsig.SignatureError, match="without the user's touch"):
        sshsig.verify_signed_by(armored, MESSAGE, GIT_NAMESPACE, key)


def test_security_key_signature_with_altered_flags_or_counter_is_refused() -> None:
    key, armored = _security_key_signature(Ed25519PrivateKey.generate(), MESSAGE, flags=0x01)
    envelope = sshsig.read_envelope(armored)
    for altered in (
        envelope.signature[:-5] + b"\x05" + envelope.signature[-4:],  # flags
        envelope.signature[:-1] + b"\x08",  # counter
    ):
        forged = sshsig.armor(key, GIT_NAMESPACE, "sha512", altered)
        with pytest.raises(sshsig.SignatureError, match="does not verify"):
            sshsig.verify_signed_by(forged, MESSAGE, GIT_NAMESPACE, key)
