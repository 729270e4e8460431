"""Bech32 spelling of age recipients and identities, and identity and recipients files."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.age import (
    AgeError,
    KeyFormatError,
    encrypt,
    generate_x25519_identity,
    identity_string,
    parse_identity,
    parse_identity_file,
    parse_recipient,
    parse_recipients_file,
    recipient_string,
)
from keys.age.bech32 import bech32_decode, bech32_encode

# age-keygen output, kept as fixed vectors: the identity and the recipient it derives.
IDENTITY = "AGE-SECRET-KEY-1KECGS3309U2M2EJC7RMA97DL9FKM27HFDAMXFJ35LK9EJK8Y50ZQ7RVF7Q"
RECIPIENT = "age1t5lt80f7uh6kp04lcy9tklwlsjww5hlaljvjdr380acpdpy7hf5sucvyar"
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def test_known_identity_derives_known_recipient() -> None:
    identity = parse_identity(IDENTITY)
    assert recipient_string(identity.public_key()) == RECIPIENT
    assert identity_string(identity) == IDENTITY
    assert recipient_string(parse_recipient(RECIPIENT)) == RECIPIENT


def test_bip173_test_vectors_verify() -> None:
    # Valid strings from BIP 173 (Bech32, original constant).
    for text in ("A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"):
        bech32_decode(text)
    for text in ("A1G7SGD8", "10a06t8", "1qzzfhee", "x1b4n0q5v", "li1dgmt3", "A12uEL5L"):
        with pytest.raises(KeyFormatError):
            bech32_decode(text)


@given(hrp=st.sampled_from(["age", "age-secret-key-", "x"]), data=st.binary(max_size=64))
def test_bech32_round_trip(hrp: str, data: bytes) -> None:
    assert bech32_decode(bech32_encode(hrp, data)) == (hrp, data)
    assert bech32_decode(bech32_encode(hrp, data).upper()) == (hrp, data)


@given(position=st.integers(min_value=4, max_value=61), replacement=st.sampled_from(CHARSET))
def test_any_single_character_change_fails_the_checksum(position: int, replacement: str) -> None:
    if RECIPIENT[position] == replacement:
        return
    altered = RECIPIENT[:position] + replacement + RECIPIENT[position + 1 :]
    with pytest.raises(KeyFormatError):
        parse_recipient(altered)


def test_generated_keys_round_trip() -> None:
    identity = generate_x25519_identity()
    text = identity_string(identity)
    assert text.startswith("AGE-SECRET-KEY-1")
    assert text == text.upper()
    assert parse_identity(text).private_bytes_raw() == identity.private_bytes_raw()
    recipient = recipient_string(identity.public_key())
    assert recipient.startswith("age1")
    assert len(recipient) == 62


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age1",
        RECIPIENT.upper(),  # age reads recipients in lower case only
        RECIPIENT[:-1],
        RECIPIENT + "q",
        RECIPIENT.replace("age1", "agf1"),
        bech32_encode("age", bytes(31)),
        bech32_encode("age", bytes(33)),
        bech32_encode("age-secret-key-", bytes(32)),
        " " + RECIPIENT,
        RECIPIENT[:10] + "b" + RECIPIENT[11:],  # "b" is outside the Bech32 alphabet
    ],
)
def test_malformed_recipients_are_rejected(text: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_recipient(text)


@pytest.mark.parametrize(
    "text",
    [
        IDENTITY.lower(),  # age reads identities in upper case only
        IDENTITY[:-1],
        RECIPIENT,
        bech32_encode("age-secret-key-", bytes(31)).upper(),
        bech32_encode("age", bytes(32)).upper(),
    ],
)
def test_malformed_identities_are_rejected_without_echoing_them(text: str) -> None:
    with pytest.raises(KeyFormatError) as caught:
        parse_identity(text)
    assert text not in str(caught.value)


def test_identity_file_skips_comments_and_blank_lines() -> None:
    second = identity_string(generate_x25519_identity())
    text = f"# created: 2026-01-01T00:00:00Z\n# public key: {RECIPIENT}\n{IDENTITY}\n\n{second}\r\n"
    identities = parse_identity_file(text)
    assert [identity_string(i) for i in identities] == [IDENTITY, second]


def test_identity_file_errors_name_the_line_not_the_secret() -> None:
    damaged = IDENTITY[:-1] + ("q" if IDENTITY[-1] != "Q" else "P")
    with pytest.raises(KeyFormatError, match="line 2") as caught:
        parse_identity_file(f"# comment\n{damaged}\n")
    assert damaged not in str(caught.value)
    with pytest.raises(KeyFormatError, match="no identities"):
        parse_identity_file("# only a comment\n")


def test_recipients_file() -> None:
    other = recipient_string(generate_x25519_identity().public_key())
    keys = parse_recipients_file(f"# State A\n{RECIPIENT}\n  {other}  \n")
    assert [recipient_string(k) for k in keys] == [RECIPIENT, other]
    with pytest.raises(KeyFormatError, match="line 1"):
        parse_recipients_file("age1nonsense\n")


def test_encryption_needs_valid_recipients() -> None:
    with pytest.raises(AgeError, match="at least one recipient"):
        encrypt(io.BytesIO(b"x"), io.BytesIO(), [])
    low_order = bech32_encode("age", bytes(32))
    out = io.BytesIO()
    with pytest.raises(AgeError, match="low-order"):
        encrypt(io.BytesIO(b"x"), out, [low_order])
    assert out.getvalue() == b""
