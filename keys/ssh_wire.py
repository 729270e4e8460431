"""The SSH wire encoding (RFC 4251 section 5) that keys and SSHSIG signatures are written in."""

from __future__ import annotations

import struct


def string(value: bytes) -> bytes:
    """Encode a byte string as an SSH `string`: its length as uint32, then the bytes."""
    return struct.pack(">I", len(value)) + value


def mpint(value: int) -> bytes:
    """Encode a non-negative integer as an SSH `mpint`: big-endian, shortest, sign bit clear."""
    if value < 0:
        raise ValueError("only non-negative mpints are written")
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return string(raw)


class WireReader:
    """Reads SSH wire-format fields, raising `error` on short data or data left over."""

    def __init__(self, data: bytes, error: type[Exception]) -> None:
        self._data = data
        self._pos = 0
        self._error = error

    def raw(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise self._error("truncated data")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def uint32(self) -> int:
        (value,) = struct.unpack(">I", self.raw(4))
        return int(value)

    def byte(self) -> int:
        return self.raw(1)[0]

    def string(self) -> bytes:
        return self.raw(self.uint32())

    def mpint(self) -> int:
        """A non-negative mpint in its one canonical encoding, as OpenSSH demands."""
        raw = self.string()
        if raw and raw[0] & 0x80:
            raise self._error("negative mpint")
        if len(raw) > 1 and raw[0] == 0 and not raw[1] & 0x80:
            raise self._error("mpint has a needless leading zero")
        if raw == b"\x00":
            raise self._error("mpint has a needless leading zero")
        return int.from_bytes(raw, "big")

    def finish(self, what: str = "data") -> None:
        if self._pos != len(self._data):
            raise self._error(f"trailing bytes after the {what}")
