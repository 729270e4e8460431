"""The age header is read only in its canonical form; well-formed unknown stanzas are skipped."""

import base64
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from keys.age import (
    HeaderError,
    NoIdentityMatched,
    Stanza,
    decrypt,
    generate_x25519_identity,
    read_header_stanzas,
)
from keys.age.header import encode_header, read_header
from keys.age.x25519 import wrap_file_key
from tests.support.age_tool import age_decrypt

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
PLAIN = b"Draft law on export control of dual-use goods"


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _spoil_last_bits(text: bytes) -> bytes:
    """Set unused low bits of the last character: same bytes, non-canonical spelling."""
    last = ALPHABET.index(chr(text[-1]))
    return text[:-1] + ALPHABET[last ^ 1].encode()


def _mac_line(file_key: bytes, header: bytes) -> bytes:
    key = HKDF(hashes.SHA256(), 32, salt=None, info=b"header").derive(file_key)
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(header)
    return b" " + _b64(mac.finalize()) + b"\n"


def _payload(file_key: bytes) -> bytes:
    nonce = os.urandom(16)
    key = HKDF(hashes.SHA256(), 32, salt=nonce, info=b"payload").derive(file_key)
    return nonce + ChaCha20Poly1305(key).encrypt(bytes(11) + b"\x01", PLAIN, None)


class Parts:
    """The pieces of a hand-written header for one X25519 recipient."""

    def __init__(self, owner: X25519PrivateKey) -> None:
        self.file_key = os.urandom(16)
        stanza = wrap_file_key(self.file_key, owner.public_key())
        self.share = stanza.args[0].encode()
        self.body = _b64(stanza.body)

    def file(self, header_to_dashes: bytes, mac_line: bytes | None = None) -> bytes:
        """Complete a header ending in `---` with a true MAC (or mac_line) and a payload."""
        if mac_line is None:
            mac_line = _mac_line(self.file_key, header_to_dashes)
        return header_to_dashes + mac_line + _payload(self.file_key)


def _standard(p: Parts, stanza_lines: bytes = b"") -> bytes:
    return b"age-encryption.org/v1\n-> X25519 " + p.share + b"\n" + p.body + b"\n" + stanza_lines


@pytest.fixture(scope="module")
def owner() -> X25519PrivateKey:
    """The identity the hand-written headers are addressed to."""
    return generate_x25519_identity()


def _decrypts(data: bytes, owner: X25519PrivateKey) -> bool:
    dst = io.BytesIO()
    decrypt(io.BytesIO(data), dst, [owner])
    return dst.getvalue() == PLAIN


def _age_accepts(tmp_path: Path, owner: X25519PrivateKey, data: bytes) -> bool:
    result = age_decrypt(tmp_path, owner, data)
    return result.returncode == 0 and result.stdout == PLAIN


def test_hand_written_canonical_header_is_accepted(tmp_path: Path, owner: X25519PrivateKey) -> None:
    p = Parts(owner)
    data = p.file(_standard(p) + b"---")
    assert _decrypts(data, owner)
    assert _age_accepts(tmp_path, owner, data)


UNKNOWN_STANZAS = {
    "no-args-empty-body": b"-> grease\n\n",
    "args-short-body": b"-> ssh-ed25519 Zm9v (~!@#$%^&*)\n" + _b64(b"x" * 10) + b"\n",
    "body-one-full-line": b"-> pq-thing AAAA\n" + _b64(b"y" * 48) + b"\n\n",
    "body-full-and-short": b"-> t\n" + _b64(b"z" * 48) + b"\n" + _b64(b"z" * 20) + b"\n",
    "after-x25519-many": b"-> a\n\n-> b c d\n"
    + _b64(b"q" * 96)[:64]
    + b"\n"
    + _b64(b"q" * 96)[64:]
    + b"\n\n",
}


@pytest.mark.parametrize("lines", UNKNOWN_STANZAS.values(), ids=UNKNOWN_STANZAS.keys())
def test_well_formed_unknown_stanzas_are_skipped(
    tmp_path: Path, owner: X25519PrivateKey, lines: bytes
) -> None:
    p = Parts(owner)
    data = p.file(_standard(p, lines) + b"---")
    assert _decrypts(data, owner)
    assert _age_accepts(tmp_path, owner, data)
    # Also when the unknown stanza comes before ours.
    first = b"age-encryption.org/v1\n" + lines + _standard(p)[len(b"age-encryption.org/v1\n") :]
    assert _decrypts(p.file(first + b"---"), owner)


def test_only_unknown_stanzas_means_no_identity_matched(owner: X25519PrivateKey) -> None:
    p = Parts(owner)
    data = p.file(b"age-encryption.org/v1\n-> scrypt c2FsdA 18\n" + p.body + b"\n---")
    with pytest.raises(NoIdentityMatched):
        decrypt(io.BytesIO(data), io.BytesIO(), [owner])


Mutation = Callable[[Parts], bytes]
V1 = b"age-encryption.org/v1\n"

# Each produces a header up to `---` that is wrong in one way; the MAC is then made
# correctly over it, so only the canonical-form rules can reject it.
NON_CANONICAL: dict[str, Mutation] = {
    "padding-in-share": lambda p: V1 + b"-> X25519 " + p.share + b"=\n" + p.body + b"\n",
    "padding-in-body": lambda p: V1 + b"-> X25519 " + p.share + b"\n" + p.body + b"=\n",
    "padding-in-unknown-body": lambda p: _standard(p, b"-> x\n" + base64.b64encode(b"ab") + b"\n"),
    "trailing-bits-in-share": lambda p: (
        V1 + b"-> X25519 " + _spoil_last_bits(p.share) + b"\n" + p.body + b"\n"
    ),
    "trailing-bits-in-body": lambda p: (
        V1 + b"-> X25519 " + p.share + b"\n" + _spoil_last_bits(p.body) + b"\n"
    ),
    "full-body-line-without-short-line": lambda p: _standard(
        p, b"-> x\n" + _b64(b"a" * 48) + b"\n"
    ),
    "body-line-of-65": lambda p: _standard(p, b"-> x\n" + _b64(b"a" * 51)[:65] + b"\n\n"),
    "body-wrapped-early": lambda p: _standard(
        p, b"-> x\n" + _b64(b"a" * 60)[:40] + b"\n" + _b64(b"a" * 60)[40:] + b"\n"
    ),
    "urlsafe-alphabet": lambda p: _standard(p, b"-> x\n" + b"-_-_" + b"\n"),
    "base64-length-mod-4-is-1": lambda p: _standard(p, b"-> x\nAAAAA\n"),
    "crlf-line-end": lambda p: V1 + b"-> X25519 " + p.share + b"\r\n" + p.body + b"\n",
    "crlf-after-body": lambda p: V1 + b"-> X25519 " + p.share + b"\n" + p.body + b"\r\n",
    "double-space-in-args": lambda p: V1 + b"-> X25519  " + p.share + b"\n" + p.body + b"\n",
    "trailing-space-in-args": lambda p: V1 + b"-> X25519 " + p.share + b" \n" + p.body + b"\n",
    "no-space-after-arrow": lambda p: V1 + b"->X25519 " + p.share + b"\n" + p.body + b"\n",
    "empty-stanza-line": lambda p: V1 + b"-> \n" + p.body + b"\n",
    "non-ascii-argument": lambda p: _standard(p, "-> x é\n\n".encode()),
    "control-char-argument": lambda p: _standard(p, b"-> x \x7f\n\n"),
    "x25519-two-args": lambda p: (
        V1 + b"-> X25519 " + p.share + b" " + p.share + b"\n" + p.body + b"\n"
    ),
    "x25519-short-share": lambda p: V1 + b"-> X25519 " + _b64(bytes(31)) + b"\n" + p.body + b"\n",
    "x25519-long-body": lambda p: V1 + b"-> X25519 " + p.share + b"\n" + _b64(bytes(33)) + b"\n",
    "x25519-zero-share": lambda p: V1 + b"-> X25519 " + _b64(bytes(32)) + b"\n" + p.body + b"\n",
    "no-stanzas": lambda p: V1,
    "version-v2": lambda p: b"age-encryption.org/v2\n" + _standard(p)[len(V1) :],
    "version-trailing-space": lambda p: b"age-encryption.org/v1 \n" + _standard(p)[len(V1) :],
    "blank-line-before-mac": lambda p: _standard(p) + b"\n",
}


@pytest.mark.parametrize("mutation", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_non_canonical_headers_are_rejected(
    tmp_path: Path, owner: X25519PrivateKey, mutation: Mutation
) -> None:
    p = Parts(owner)
    data = p.file(mutation(p) + b"---")
    dst = io.BytesIO()
    with pytest.raises(HeaderError):
        decrypt(io.BytesIO(data), dst, [owner])
    assert dst.getvalue() == b""
    assert not _age_accepts(tmp_path, owner, data)


def test_zero_share_is_refused_as_all_zero_secret(owner: X25519PrivateKey) -> None:
    p = Parts(owner)
    data = p.file(NON_CANONICAL["x25519-zero-share"](p) + b"---")
    with pytest.raises(HeaderError, match="all zero"):
        decrypt(io.BytesIO(data), io.BytesIO(), [owner])


MAC_LINES = {
    "padding": lambda mac: b" " + base64.b64encode(mac) + b"\n",
    "trailing-bits": lambda mac: b" " + _spoil_last_bits(_b64(mac)) + b"\n",
    "no-space": lambda mac: _b64(mac) + b"\n",
    "two-spaces": lambda mac: b"  " + _b64(mac) + b"\n",
    "extra-field": lambda mac: b" " + _b64(mac) + b" x\n",
    "short": lambda mac: b" " + _b64(mac[:31]) + b"\n",
    "missing": lambda mac: b"\n",
    "no-newline": lambda mac: b" " + _b64(mac),
    "crlf": lambda mac: b" " + _b64(mac) + b"\r\n",
}


@pytest.mark.parametrize("spell", MAC_LINES.values(), ids=MAC_LINES.keys())
def test_non_canonical_mac_lines_are_rejected(
    tmp_path: Path, owner: X25519PrivateKey, spell: Callable[[bytes], bytes]
) -> None:
    p = Parts(owner)
    header = _standard(p) + b"---"
    mac = base64.b64decode(_mac_line(p.file_key, header)[1:-1] + b"=")
    data = p.file(header, spell(mac))
    with pytest.raises(HeaderError):
        decrypt(io.BytesIO(data), io.BytesIO(), [owner])
    assert not _age_accepts(tmp_path, owner, data)


def test_mac_covers_unknown_stanzas(owner: X25519PrivateKey) -> None:
    p = Parts(owner)
    header = _standard(p, b"-> grease abc\n\n") + b"---"
    data = p.file(header)
    altered = data.replace(b"-> grease abc", b"-> grease abd")
    with pytest.raises(HeaderError, match="MAC"):
        decrypt(io.BytesIO(altered), io.BytesIO(), [owner])


def test_truncated_and_huge_headers_are_rejected(owner: X25519PrivateKey) -> None:
    p = Parts(owner)
    data = p.file(_standard(p) + b"---")
    for cut in (0, 5, 22, 40, len(_standard(p)), len(_standard(p)) + 3):
        with pytest.raises(HeaderError):
            read_header_stanzas(io.BytesIO(data[:cut]))
    with pytest.raises(HeaderError, match="too long"):
        read_header_stanzas(io.BytesIO(V1 + b"-> " + b"a" * 100_000 + b"\n"))
    many = V1 + (b"-> " + b"a" * 10_000 + b"\n\n") * 500
    with pytest.raises(HeaderError, match="too large"):
        read_header_stanzas(io.BytesIO(many))


def test_reading_the_header_stops_at_the_payload(owner: X25519PrivateKey) -> None:
    p = Parts(owner)
    data = p.file(_standard(p, b"-> other 1 2\n\n") + b"---")
    src = io.BytesIO(data)
    stanzas = read_header_stanzas(src)
    assert [s.type for s in stanzas] == ["X25519", "other"]
    assert stanzas[1].args == ("1", "2")
    assert src.read() == data[data.index(b"\n", data.index(b"---")) + 1 :]


_ARG = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


@given(
    stanzas=st.lists(
        st.builds(
            Stanza,
            type=_ARG,
            args=st.lists(_ARG, max_size=3).map(tuple),
            body=st.binary(max_size=200),
        ),
        min_size=1,
        max_size=4,
    ),
    file_key=st.binary(min_size=16, max_size=16),
)
def test_encoded_headers_read_back_identically(stanzas: list[Stanza], file_key: bytes) -> None:
    encoded = encode_header(stanzas, file_key)
    header = read_header(io.BytesIO(encoded))
    assert list(header.stanzas) == stanzas
    assert encoded.startswith(header.mac_input)
    assert all(len(line) <= 64 for line in encoded.split(b"\n")[1:] if not line.startswith(b"->"))


def test_a_full_body_line_must_be_followed_by_a_shorter_one(owner: X25519PrivateKey) -> None:
    p = Parts(owner)
    for after in (b"---", b"-> y\n\n---"):
        data = p.file(_standard(p, b"-> x\n" + _b64(b"a" * 96)[:64] + b"\n") + after)
        with pytest.raises(HeaderError, match="short last line is missing"):
            decrypt(io.BytesIO(data), io.BytesIO(), [owner])
