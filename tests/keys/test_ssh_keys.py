"""A registered SSH public key is parsed as ssh-keygen reads it, and refused when it is not one
peerlex accepts, with a message that names the problem and not the key."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from keys.ssh_keys import (
    KEY_TYPES,
    InvalidPublicKey,
    SshPublicKey,
    parse_public_key_line,
    sk_application,
    verifying_key,
)
from keys.ssh_wire import mpint, string


def _keygen(tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-C", "", "-f", str(path)], check=True)
    return path


def _line(key_type: str, blob: bytes, comment: str = "") -> str:
    return f"{key_type} {base64.b64encode(blob).decode()} {comment}".rstrip()


def _ed25519_raw() -> bytes:
    public = Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _openssh_line(public: object) -> str:
    assert hasattr(public, "public_bytes")
    text: bytes = public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    return text.decode()


def _refused(line: str, words: str) -> InvalidPublicKey:
    with pytest.raises(InvalidPublicKey, match=words) as info:
        parse_public_key_line(line)
    return info.value


@pytest.mark.parametrize(
    ("args", "key_type"),
    [
        (("-t", "ed25519"), "ssh-ed25519"),
        (("-t", "ecdsa", "-b", "256"), "ecdsa-sha2-nistp256"),
        (("-t", "rsa", "-b", "3072"), "ssh-rsa"),
    ],
)
def test_fingerprint_is_the_one_ssh_keygen_prints(
    tmp_path: Path, args: tuple[str, ...], key_type: str
) -> None:
    path = _keygen(tmp_path, *args)
    text = path.with_suffix(".pub").read_text()
    key = parse_public_key_line(text.strip() + " Мария Иванова (MFA, ноутбук)\n")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(path.with_suffix(".pub"))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert key.key_type == key_type
    assert key.fingerprint == printed[1]
    assert key.comment == "Мария Иванова (MFA, ноутбук)"
    assert key.line() == " ".join(text.split()[:2])
    assert parse_public_key_line(key.line()) == SshPublicKey(key.key_type, key.blob, "")


def test_security_key_line_keeps_its_application_and_fingerprint(tmp_path: Path) -> None:
    raw = _ed25519_raw()
    blob = string(b"sk-ssh-ed25519@openssh.com") + string(raw) + string(b"ssh:")
    key = parse_public_key_line(_line("sk-ssh-ed25519@openssh.com", blob, "yubikey"))
    assert sk_application(key) == b"ssh:"
    assert verifying_key(key).public_bytes(Encoding.Raw, PublicFormat.Raw) == raw
    (tmp_path / "sk.pub").write_text(key.line() + "\n")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(tmp_path / "sk.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert key.fingerprint == printed[1]
    assert "ED25519-SK" in printed[-1]


def test_accepted_types_are_the_four_documented() -> None:
    assert KEY_TYPES == (
        "ssh-ed25519",
        "sk-ssh-ed25519@openssh.com",
        "ecdsa-sha2-nistp256",
        "ssh-rsa",
    )


def test_more_than_one_line_is_refused() -> None:
    first = _openssh_line(Ed25519PrivateKey.generate().public_key())
    second = _openssh_line(Ed25519PrivateKey.generate().public_key())
    _refused(first + "\n" + second, "one public key line")
    _refused(first + " a\rb", "one public key line")
    _refused(first + " laptop\u2029", "one public key line")


def test_authorized_keys_options_are_refused() -> None:
    line = _openssh_line(Ed25519PrivateKey.generate().public_key())
    _refused('from="10.0.0.0/8",no-pty ' + line, "options before the key type")
    _refused("restrict " + line, "options before the key type")


@pytest.mark.parametrize(
    ("key_type", "words"),
    [
        ("ssh-dss", "DSA keys are not accepted"),
        ("ecdsa-sha2-nistp384", "P-256 only"),
        ("ecdsa-sha2-nistp521", "P-256 only"),
        ("sk-ecdsa-sha2-nistp256@openssh.com", "security-key ECDSA"),
        ("ssh-ed25519-cert-v01@openssh.com", "certificates are not accepted"),
        ("rsa-sha2-256", "unknown key type"),
    ],
)
def test_other_types_are_refused(key_type: str, words: str) -> None:
    _refused(_line(key_type, string(key_type.encode()) + string(b"x" * 32)), words)


def test_real_p384_and_p521_keys_are_refused() -> None:
    for curve in (ec.SECP384R1(), ec.SECP521R1()):
        _refused(_openssh_line(ec.generate_private_key(curve).public_key()), "P-256 only")


def test_non_strict_base64_is_refused() -> None:
    line = _openssh_line(ec.generate_private_key(ec.SECP256R1()).public_key())
    key_type, encoded = line.split()
    _refused(f"{key_type} {encoded[:-1]}!", "not valid base64")
    _refused(f"{key_type} {encoded.rstrip('=')}", "not valid base64")
    # A P-256 blob is 104 bytes: one '=' of padding, and its last digit carries 2 unused bits.
    assert encoded.endswith("=")
    assert not encoded.endswith("==")
    last = encoded.rstrip("=")[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    altered = alphabet[alphabet.index(last) ^ 1]
    _refused(f"{key_type} {encoded.rstrip('=')[:-1]}{altered}=", "not canonical base64")


def test_blob_of_another_type_is_refused() -> None:
    blob = string(b"ssh-ed25519") + string(_ed25519_raw())
    _refused(_line("sk-ssh-ed25519@openssh.com", blob), "not of the type the line names")
    p256 = _openssh_line(ec.generate_private_key(ec.SECP256R1()).public_key()).split()[1]
    _refused(f"ssh-rsa {p256}", "not of the type the line names")


def test_trailing_bytes_in_the_blob_are_refused() -> None:
    for line in (
        _openssh_line(Ed25519PrivateKey.generate().public_key()),
        _openssh_line(ec.generate_private_key(ec.SECP256R1()).public_key()),
        _openssh_line(rsa.generate_private_key(65537, 2048).public_key()),
    ):
        key_type, encoded = line.split()
        _refused(_line(key_type, base64.b64decode(encoded) + b"\x00"), "trailing bytes")
    sk = string(b"sk-ssh-ed25519@openssh.com") + string(_ed25519_raw()) + string(b"ssh:")
    _refused(_line("sk-ssh-ed25519@openssh.com", sk + b"x"), "trailing bytes")


@pytest.mark.parametrize("size", [0, 31, 33])
@pytest.mark.parametrize("key_type", ["ssh-ed25519", "sk-ssh-ed25519@openssh.com"])
def test_ed25519_key_of_another_size_is_refused(key_type: str, size: int) -> None:
    blob = string(key_type.encode()) + string(b"\x01" * size) + string(b"ssh:")
    _refused(_line(key_type, blob), "not 32 bytes")


def test_truncated_blob_is_refused() -> None:
    _refused(_line("ssh-ed25519", string(b"ssh-ed25519") + b"\x00\x00\x00\x20abc"), "truncated")


def test_ecdsa_point_off_the_curve_is_refused() -> None:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = bytearray(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    point[-1] ^= 1
    blob = string(b"ecdsa-sha2-nistp256") + string(b"nistp256") + string(bytes(point))
    _refused(_line("ecdsa-sha2-nistp256", blob), "not on P-256")


def test_ecdsa_blob_naming_another_curve_is_refused() -> None:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    blob = string(b"ecdsa-sha2-nistp256") + string(b"nistp384") + string(point)
    _refused(_line("ecdsa-sha2-nistp256", blob), "names another curve")


def _rsa_line(exponent: int, modulus: int) -> str:
    return _line("ssh-rsa", string(b"ssh-rsa") + mpint(exponent) + mpint(modulus))


def test_short_rsa_key_is_refused() -> None:
    # The size is refused before the numbers are looked at, so any 1024-bit modulus will do.
    _refused(_rsa_line(65537, (1 << 1023) | 1), "1024 bits; at least 2048")


def test_oversized_rsa_key_is_refused() -> None:
    _refused(_rsa_line(65537, (1 << 16400) | 1), "at most 16384")


@pytest.mark.parametrize("exponent", [1, 2, 65536, 2**32 + 1])
def test_rsa_key_with_a_silly_exponent_is_refused(exponent: int) -> None:
    modulus = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n
    _refused(_rsa_line(exponent, modulus), "unusable public exponent")


def test_rsa_mpint_with_a_leading_zero_is_refused() -> None:
    numbers = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    padded = string(b"\x00" + numbers.e.to_bytes(3, "big"))
    blob = string(b"ssh-rsa") + padded + mpint(numbers.n)
    _refused(_line("ssh-rsa", blob), "leading zero")


def test_security_key_without_application_is_refused() -> None:
    blob = string(b"sk-ssh-ed25519@openssh.com") + string(_ed25519_raw())
    _refused(_line("sk-ssh-ed25519@openssh.com", blob), "no application string")


def test_security_key_application_outside_ssh_is_refused() -> None:
    blob = string(b"sk-ssh-ed25519@openssh.com") + string(_ed25519_raw())
    _refused(
        _line("sk-ssh-ed25519@openssh.com", blob + string(b"https://example.org")),
        "does not start with 'ssh:'",
    )


@pytest.mark.parametrize(
    "comment", ["laptop\x1b[2J", "a\tb", "evil\u202etxt.exe", "x\u2066y", "del\x7f", "c1\x9b2J"]
)
def test_comment_with_control_or_bidi_characters_is_refused(comment: str) -> None:
    line = _openssh_line(Ed25519PrivateKey.generate().public_key())
    _refused(f"{line} {comment}", "control or bidirectional")


@pytest.mark.parametrize("separator", ["\x1f", "\u2028", "\u00a0", "\u3000"])
def test_other_white_space_between_fields_is_refused(separator: str) -> None:
    key_type, encoded = _openssh_line(Ed25519PrivateKey.generate().public_key()).split()
    with pytest.raises(InvalidPublicKey):
        parse_public_key_line(f"{key_type}{separator}{encoded}")
    if separator in ("\x1f", "\u2028"):  # a space in a comment is the user's business
        _refused(f"{key_type} {encoded} laptop{separator}", "control|one public key line")


def test_line_over_16_kib_is_refused() -> None:
    line = _openssh_line(Ed25519PrivateKey.generate().public_key())
    assert parse_public_key_line(line + " " + "c" * (16 * 1024 - len(line) - 1))
    _refused(line + " " + "c" * (16 * 1024 - len(line)), "at most 16384 bytes")


def test_missing_key_is_refused() -> None:
    _refused("ssh-ed25519", "<type> <base64>")
    _refused("", "<type> <base64>")


def test_refusal_does_not_echo_the_key() -> None:
    line = _openssh_line(Ed25519PrivateKey.generate().public_key())
    encoded = line.split()[1]
    error = _refused(line + " \u202e", "bidirectional")
    assert encoded not in str(error)
    error = _refused("ecdsa-sha2-nistp256 " + encoded, "not of the type")
    assert encoded[:12] not in str(error)
