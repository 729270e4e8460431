"""Bech32 (BIP 173 checksum) encoding of age recipients and identities."""

from collections.abc import Sequence

from keys.age.errors import KeyFormatError

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
# age uses the original Bech32 constant, not Bech32m, and no 90-character limit.
_CHECKSUM_CONSTANT = 1


def _polymod(values: Sequence[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = ((checksum & 0x1FFFFFF) << 5) ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: Sequence[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    accumulator = 0
    bits = 0
    out: list[int] = []
    mask = (1 << to_bits) - 1
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((accumulator >> bits) & mask)
    if pad:
        if bits:
            out.append((accumulator << (to_bits - bits)) & mask)
    elif bits >= from_bits or (accumulator << (to_bits - bits)) & mask:
        # Decoding must be the exact inverse of encoding: at most four bits of
        # padding, all zero; anything else is a different (non-canonical) string.
        raise KeyFormatError("bech32 data has invalid padding")
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """Encode bytes under a lower-case human-readable prefix."""
    words = _regroup(data, 8, 5, pad=True)
    polymod = _polymod(_expand_hrp(hrp) + words + [0] * 6) ^ _CHECKSUM_CONSTANT
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words + checksum)


def bech32_decode(text: str) -> tuple[str, bytes]:
    """Return the lower-case prefix and the bytes of a Bech32 string, checksum verified."""
    if text.lower() != text and text.upper() != text:
        raise KeyFormatError("bech32 string mixes upper and lower case")
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise KeyFormatError("bech32 string has characters outside printable ASCII")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text):
        raise KeyFormatError("bech32 string is too short or has no separator")
    hrp = text[:separator]
    try:
        words = [_CHARSET_INDEX[c] for c in text[separator + 1 :]]
    except KeyError:
        raise KeyFormatError("bech32 string has a character outside its alphabet") from None
    if _polymod(_expand_hrp(hrp) + words) != _CHECKSUM_CONSTANT:
        raise KeyFormatError("bech32 checksum does not match")
    return hrp, bytes(_regroup(words[:-6], 5, 8, pad=False))
