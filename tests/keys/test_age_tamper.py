"""Altered, truncated or reordered age files fail with typed errors and release no bad plaintext."""

import io
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.age import (
    AgeError,
    HeaderError,
    NoIdentityMatched,
    PayloadError,
    decrypt,
    encrypt,
    generate_x25519_identity,
    identity_string,
)
from keys.age.header import encode_header
from keys.age.x25519 import wrap_file_key
from tests.support.age_tool import age_decrypt

CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16
NONCE = 16
# Three full chunks and a short final one.
PLAIN = os.urandom(3 * CHUNK + 100)


@pytest.fixture(scope="module")
def owner() -> X25519PrivateKey:
    """The identity of the State that owns the attachment."""
    return generate_x25519_identity()


@pytest.fixture(scope="module")
def sealed(owner: X25519PrivateKey) -> bytes:
    """PLAIN encrypted to owner."""
    out = io.BytesIO()
    encrypt(io.BytesIO(PLAIN), out, [owner.public_key()])
    return out.getvalue()


def _header_length(data: bytes) -> int:
    return data.index(b"\n", data.index(b"\n---") + 1) + 1


def _chunk_start(data: bytes, index: int) -> int:
    return _header_length(data) + NONCE + index * SEALED_CHUNK


def _decrypt_expecting(
    data: bytes, identity: X25519PrivateKey, error: type[AgeError] | tuple[type[AgeError], ...]
) -> tuple[bytes, AgeError]:
    """Decrypt data, which must fail with error; return what reached dst and the error."""
    dst = io.BytesIO()
    with pytest.raises(error) as caught:
        decrypt(io.BytesIO(data), dst, [identity])
    return dst.getvalue(), caught.value


def _assert_released_only_before(written: bytes, failing_chunk: int) -> None:
    """What reached dst is authenticated plaintext from chunks before the failing one."""
    assert PLAIN.startswith(written)
    assert len(written) <= failing_chunk * CHUNK


def test_untampered_file_decrypts(sealed: bytes, owner: X25519PrivateKey) -> None:
    dst = io.BytesIO()
    assert decrypt(io.BytesIO(sealed), dst, [owner]) == len(PLAIN)
    assert dst.getvalue() == PLAIN


def test_state_b_key_cannot_decrypt_state_a_attachment(sealed: bytes) -> None:
    state_b = generate_x25519_identity()
    written, error = _decrypt_expecting(sealed, state_b, NoIdentityMatched)
    assert written == b""
    # Reading the identity as a string gives the same answer.
    with pytest.raises(NoIdentityMatched):
        decrypt(io.BytesIO(sealed), io.BytesIO(), [identity_string(state_b)])


def _region_offsets(data: bytes) -> dict[str, list[int]]:
    header = data[: _header_length(data)]
    lines = header.split(b"\n")
    version, stanza, body, mac = (len(b"\n".join(lines[:n])) + (n > 0) for n in range(4))
    return {
        "version line": list(range(version, version + len(lines[0]))),
        "stanza type": list(range(stanza + 3, stanza + 9)),
        "stanza argument": list(range(stanza + 10, stanza + len(lines[1]))),
        "stanza body": list(range(body, body + len(lines[2]))),
        "mac": list(range(mac + 4, mac + len(lines[3]))),
        "line ends": [i for i, byte in enumerate(header) if byte == ord("\n")],
    }


@pytest.mark.parametrize(
    "region",
    ["version line", "stanza type", "stanza argument", "stanza body", "mac", "line ends"],
)
def test_every_header_byte_flip_is_rejected(
    sealed: bytes, owner: X25519PrivateKey, region: str
) -> None:
    offsets = _region_offsets(sealed)[region]
    assert offsets
    for offset in offsets:
        for flip in (0x01, 0x20, 0x80):
            damaged = bytearray(sealed)
            damaged[offset] ^= flip
            # A changed share or body usually stays valid base64 and then simply
            # addresses nobody; anything else is a malformed or unauthenticated header.
            written, _ = _decrypt_expecting(bytes(damaged), owner, (HeaderError, NoIdentityMatched))
            assert written == b""


@pytest.mark.parametrize("region", ["version line", "mac"])
def test_header_flips_in_version_and_mac_are_header_errors(
    sealed: bytes, owner: X25519PrivateKey, region: str
) -> None:
    for offset in _region_offsets(sealed)[region]:
        damaged = bytearray(sealed)
        damaged[offset] ^= 0x01
        written, _ = _decrypt_expecting(bytes(damaged), owner, HeaderError)
        assert written == b""


def test_a_valid_but_different_mac_is_rejected(sealed: bytes, owner: X25519PrivateKey) -> None:
    # Change a MAC character to another that keeps the base64 canonical.
    end = _header_length(sealed) - 1
    position = end - 10
    damaged = bytearray(sealed)
    damaged[position] = ord("A") if damaged[position] != ord("A") else ord("B")
    written, error = _decrypt_expecting(bytes(damaged), owner, HeaderError)
    assert "MAC does not verify" in str(error)
    assert written == b""


def test_payload_nonce_flip_fails_first_chunk(sealed: bytes, owner: X25519PrivateKey) -> None:
    damaged = bytearray(sealed)
    damaged[_header_length(sealed)] ^= 0x01
    written, _ = _decrypt_expecting(bytes(damaged), owner, PayloadError)
    assert written == b""


@pytest.mark.parametrize("chunk", [0, 1, 2, 3])
@pytest.mark.parametrize("where", ["text", "tag"])
def test_chunk_byte_flip_releases_nothing_of_that_chunk(
    sealed: bytes, owner: X25519PrivateKey, chunk: int, where: str
) -> None:
    start = _chunk_start(sealed, chunk)
    end = min(start + SEALED_CHUNK, len(sealed))
    offset = start + 7 if where == "text" else end - 3
    damaged = bytearray(sealed)
    damaged[offset] ^= 0x40
    written, _ = _decrypt_expecting(bytes(damaged), owner, PayloadError)
    _assert_released_only_before(written, chunk)


@pytest.mark.parametrize("kept", [0, 1, 2, 3])
def test_truncation_at_a_chunk_boundary(sealed: bytes, owner: X25519PrivateKey, kept: int) -> None:
    written, error = _decrypt_expecting(sealed[: _chunk_start(sealed, kept)], owner, PayloadError)
    _assert_released_only_before(written, max(kept - 1, 0))
    if kept:
        assert "final chunk is missing" in str(error)


@pytest.mark.parametrize("cut", [1, 15, 16, 17, 100, SEALED_CHUNK - 1])
def test_truncation_inside_chunks_and_nonce(
    sealed: bytes, owner: X25519PrivateKey, cut: int
) -> None:
    written, _ = _decrypt_expecting(sealed[:-cut], owner, PayloadError)
    _assert_released_only_before(written, 3)
    nonce_cut = sealed[: _header_length(sealed) + NONCE - 1]
    written, _ = _decrypt_expecting(nonce_cut, owner, PayloadError)
    assert written == b""


def test_removing_the_final_chunk(sealed: bytes, owner: X25519PrivateKey) -> None:
    without_final = sealed[: _chunk_start(sealed, 3)]
    written, error = _decrypt_expecting(without_final, owner, PayloadError)
    _assert_released_only_before(written, 2)
    assert "final chunk is missing" in str(error)


@pytest.mark.parametrize("first", [0, 1])
def test_reordering_two_chunks(sealed: bytes, owner: X25519PrivateKey, first: int) -> None:
    a, b = _chunk_start(sealed, first), _chunk_start(sealed, first + 1)
    c = b + SEALED_CHUNK
    swapped = sealed[:a] + sealed[b:c] + sealed[a:b] + sealed[c:]
    written, _ = _decrypt_expecting(swapped, owner, PayloadError)
    _assert_released_only_before(written, first)


@pytest.mark.parametrize("extra", [b"\x00", os.urandom(16), os.urandom(SEALED_CHUNK)])
def test_trailing_data_after_a_short_final_chunk(
    sealed: bytes, owner: X25519PrivateKey, extra: bytes
) -> None:
    written, _ = _decrypt_expecting(sealed + extra, owner, PayloadError)
    _assert_released_only_before(written, 3)


# Files crafted chunk by chunk, with an independent implementation of the payload,
# to show the rules hold even for payloads our encoder would never write.


def _payload(file_key: bytes, chunks: list[tuple[bytes, bool]]) -> bytes:
    nonce = os.urandom(NONCE)
    key = HKDF(hashes.SHA256(), 32, salt=nonce, info=b"payload").derive(file_key)
    aead = ChaCha20Poly1305(key)
    out = bytearray(nonce)
    for counter, (text, last) in enumerate(chunks):
        out += aead.encrypt(counter.to_bytes(11, "big") + bytes([last]), text, None)
    return bytes(out)


def _crafted(owner: X25519PrivateKey, chunks: list[tuple[bytes, bool]]) -> bytes:
    file_key = os.urandom(16)
    header = encode_header([wrap_file_key(file_key, owner.public_key())], file_key)
    return header + _payload(file_key, chunks)


def _age_accepts(tmp_path: Path, owner: X25519PrivateKey, data: bytes) -> bool:
    result = age_decrypt(tmp_path, owner, data)
    return result.returncode == 0


FULL = bytes(range(256)) * 256


@pytest.mark.parametrize(
    ("chunks", "released", "message"),
    [
        pytest.param([(FULL, False), (b"", True)], 0, "empty", id="empty-final-after-full"),
        pytest.param([(FULL, False), (FULL, True), (b"x", True)], 0, "trailing", id="appended"),
        pytest.param([(FULL, True), (FULL, True)], 0, "trailing", id="two-final-flags"),
        pytest.param([(FULL, False), (FULL, False)], 1, "missing", id="no-final-flag"),
        pytest.param([(b"short", False), (b"x", True)], 0, "authenticate", id="short-non-final"),
        pytest.param([(b"", False)], 0, "missing", id="only-chunk-not-final"),
    ],
)
def test_crafted_payloads_are_rejected_like_age_does(
    tmp_path: Path,
    owner: X25519PrivateKey,
    chunks: list[tuple[bytes, bool]],
    released: int,
    message: str,
) -> None:
    data = _crafted(owner, chunks)
    dst = io.BytesIO()
    with pytest.raises(PayloadError, match=message):
        decrypt(io.BytesIO(data), dst, [owner])
    assert len(dst.getvalue()) <= released * CHUNK
    assert not _age_accepts(tmp_path, owner, data)


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([(b"", True)], id="empty-file"),
        pytest.param([(FULL, True)], id="one-full-final"),
        pytest.param([(FULL, False), (FULL[:1], True)], id="full-then-short"),
    ],
)
def test_crafted_valid_payloads_are_accepted_like_age_does(
    tmp_path: Path, owner: X25519PrivateKey, chunks: list[tuple[bytes, bool]]
) -> None:
    data = _crafted(owner, chunks)
    dst = io.BytesIO()
    decrypt(io.BytesIO(data), dst, [owner])
    assert dst.getvalue() == b"".join(text for text, _ in chunks)
    assert _age_accepts(tmp_path, owner, data)


def test_header_without_payload_is_rejected(owner: X25519PrivateKey) -> None:
    data = _crafted(owner, [(b"", True)])
    written, error = _decrypt_expecting(data[: _header_length(data)], owner, PayloadError)
    assert written == b""
    written, error = _decrypt_expecting(data[: _header_length(data) + NONCE], owner, PayloadError)
    assert "no chunks" in str(error)
