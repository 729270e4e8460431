"""SSHSIG interoperates with OpenSSH both ways and refuses what it must."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_ssh_private_key

from keys import sshsig
from keys.allowed_signers import AllowedSigner, render
from keys.protocol import principal


def _allowed(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(render([AllowedSigner("BLR", key.public_key())]))
    return path


def test_our_signature_verifies_with_ssh_keygen(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    message = "Статья 5. Лицензирование экспорта\n".encode()
    (tmp_path / "sig").write_text(sshsig.sign(key, message, "peerlex-approval"))
    result = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(_allowed(tmp_path, key)),
            "-I",
            principal("BLR"),
            "-n",
            "peerlex-approval",
            "-s",
            str(tmp_path / "sig"),
        ],
        input=message,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b'Good "peerlex-approval" signature' in result.stdout


def test_ssh_keygen_signature_verifies_with_ours(tmp_path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")], check=True
    )
    message = b"draft export control law, version 3\n"
    (tmp_path / "msg").write_bytes(message)
    subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "sign",
            "-f",
            str(tmp_path / "id"),
            "-n",
            "git",
            str(tmp_path / "msg"),
        ],
        check=True,
        capture_output=True,
    )
    armored = (tmp_path / "msg.sig").read_text()
    verified = sshsig.verify(armored, message, "git")
    key = load_ssh_private_key((tmp_path / "id").read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    assert verified.fingerprint == sshsig.fingerprint(key.public_key())
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(tmp_path / "id.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert verified.fingerprint == fingerprint
    with pytest.raises(sshsig.SignatureError):
        sshsig.verify(armored, message + b"!", "git")
    with pytest.raises(sshsig.SignatureError, match="namespace"):
        sshsig.verify(armored, message, "peerlex-bundle")


def test_output_matches_ssh_keygen_byte_for_byte(tmp_path: Path) -> None:
    """Ed25519 is deterministic, so our armored signature equals ssh-keygen's."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")], check=True
    )
    key = load_ssh_private_key((tmp_path / "id").read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    (tmp_path / "msg").write_bytes(b"x" * 1000)
    subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "sign",
            "-f",
            str(tmp_path / "id"),
            "-n",
            "git",
            str(tmp_path / "msg"),
        ],
        check=True,
        capture_output=True,
    )
    assert sshsig.sign(key, b"x" * 1000, "git") == (tmp_path / "msg.sig").read_text()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.replace("-----BEGIN SSH SIGNATURE-----", "-----BEGIN PGP SIGNATURE-----"),
        lambda s: s[:40] + ("A" if s[40] != "A" else "B") + s[41:],
        lambda s: s.replace("\n", "\n!", 1),
        lambda s: "",
    ],
)
def test_malformed_signatures_are_refused(mangle: object) -> None:
    key = Ed25519PrivateKey.generate()
    armored = sshsig.sign(key, b"text", "git")
    with pytest.raises(sshsig.SignatureError):
        sshsig.verify(mangle(armored), b"text", "git")  # type: ignore[operator]


def test_another_key_signature_is_not_the_expected_key() -> None:
    signer, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    verified = sshsig.verify(sshsig.sign(signer, b"m", "git"), b"m", "git")
    assert verified.fingerprint != sshsig.fingerprint(other.public_key())
