"""Interoperability of keys.age with the real age and age-keygen tools, both ways."""

import filecmp
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keys.age import (
    NoIdentityMatched,
    PayloadError,
    decrypt,
    encrypt,
    generate_x25519_identity,
    identity_string,
    parse_identity,
    parse_identity_file,
    parse_recipient,
    read_header_stanzas,
    recipient_string,
    rewrap_header,
)

AGE = "/usr/bin/age"
AGE_KEYGEN = "/usr/bin/age-keygen"
CHUNK = 64 * 1024
SIZES = [0, 1, 65_535, 65_536, 65_537]


def _keygen(path: Path) -> str:
    """Make an identity file with age-keygen and return its recipient."""
    subprocess.run([AGE_KEYGEN, "-o", str(path)], check=True, capture_output=True)
    return subprocess.run(
        [AGE_KEYGEN, "-y", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()


def _write_random(path: Path, size: int) -> None:
    with path.open("wb") as stream:
        while size:
            piece = min(size, 1024 * 1024)
            stream.write(os.urandom(piece))
            size -= piece


def _header_length(data: bytes) -> int:
    return data.index(b"\n", data.index(b"\n---") + 1) + 1


@pytest.fixture
def age_identity(tmp_path: Path) -> tuple[Path, str]:
    """An identity file made by age-keygen, and its recipient."""
    path = tmp_path / "age-identity.txt"
    return path, _keygen(path)


def _encrypt_file(source: Path, target: Path, recipients: list[str]) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        assert encrypt(src, dst, recipients) == source.stat().st_size


def _decrypt_file(source: Path, target: Path, identities: list[str]) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        decrypt(src, dst, identities)


@pytest.mark.parametrize("size", SIZES)
def test_age_decrypts_what_we_encrypt(
    tmp_path: Path, age_identity: tuple[Path, str], size: int
) -> None:
    identity_file, recipient = age_identity
    plain, sealed = tmp_path / "plain", tmp_path / "plain.age"
    _write_random(plain, size)
    _encrypt_file(plain, sealed, [recipient])
    # Each 64 KiB chunk (and the one empty chunk of an empty file) carries a 16-byte tag.
    chunks = max(1, -(-size // CHUNK))
    header = _header_length(sealed.read_bytes())
    assert sealed.stat().st_size == header + 16 + size + 16 * chunks
    out = subprocess.run(
        [AGE, "-d", "-i", str(identity_file), str(sealed)], check=True, capture_output=True
    ).stdout
    assert out == plain.read_bytes()


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_what_age_encrypts(
    tmp_path: Path, age_identity: tuple[Path, str], size: int
) -> None:
    identity_file, recipient = age_identity
    plain, sealed, back = tmp_path / "plain", tmp_path / "plain.age", tmp_path / "back"
    _write_random(plain, size)
    subprocess.run([AGE, "-r", recipient, "-o", str(sealed), str(plain)], check=True)
    identities = parse_identity_file(identity_file.read_text())
    with sealed.open("rb") as src, back.open("wb") as dst:
        assert decrypt(src, dst, identities) == size
    assert back.read_bytes() == plain.read_bytes()


@pytest.mark.slow
def test_fifty_megabytes_both_ways_in_files(tmp_path: Path, age_identity: tuple[Path, str]) -> None:
    identity_file, recipient = age_identity
    identity = identity_file.read_text().splitlines()[-1]
    plain = tmp_path / "plain"
    _write_random(plain, 50 * 1000 * 1000)

    ours, by_age = tmp_path / "ours.age", tmp_path / "by-age.age"
    _encrypt_file(plain, ours, [recipient])
    subprocess.run(
        [AGE, "-d", "-i", str(identity_file), "-o", str(tmp_path / "a"), str(ours)], check=True
    )
    assert filecmp.cmp(plain, tmp_path / "a", shallow=False)

    subprocess.run([AGE, "-r", recipient, "-o", str(by_age), str(plain)], check=True)
    _decrypt_file(by_age, tmp_path / "b", [identity])
    assert filecmp.cmp(plain, tmp_path / "b", shallow=False)


def test_several_recipients_each_decrypt(tmp_path: Path) -> None:
    files = [tmp_path / f"id{n}.txt" for n in range(3)]
    recipients = [_keygen(path) for path in files]
    ours = generate_x25519_identity()
    plain = os.urandom(70_000)
    sealed = io.BytesIO()
    encrypt(io.BytesIO(plain), sealed, [*recipients, ours.public_key()])
    (tmp_path / "sealed").write_bytes(sealed.getvalue())
    assert len(read_header_stanzas(io.BytesIO(sealed.getvalue()))) == 4
    for path in files:
        out = subprocess.run(
            [AGE, "-d", "-i", str(path), str(tmp_path / "sealed")], check=True, capture_output=True
        ).stdout
        assert out == plain
    back = io.BytesIO()
    decrypt(io.BytesIO(sealed.getvalue()), back, [ours])
    assert back.getvalue() == plain

    # And the other way: age writes several stanzas and we find ours among them.
    command = [AGE, *[a for r in recipients for a in ("-r", r)]]
    command += ["-r", recipient_string(ours.public_key())]
    by_age = subprocess.run(command, input=plain, check=True, capture_output=True).stdout
    back = io.BytesIO()
    decrypt(io.BytesIO(by_age), back, [generate_x25519_identity(), ours])
    assert back.getvalue() == plain


def test_age_keygen_identity_files_parse(tmp_path: Path) -> None:
    path = tmp_path / "id.txt"
    recipient = _keygen(path)
    text = path.read_text()
    assert text.startswith("# created: ")
    (identity,) = parse_identity_file(text)
    assert recipient_string(identity.public_key()) == recipient
    assert identity_string(identity) == text.splitlines()[-1]
    assert parse_recipient(recipient).public_bytes_raw() == identity.public_key().public_bytes_raw()


def test_age_keygen_derives_our_recipient_from_our_identity(tmp_path: Path) -> None:
    identity = generate_x25519_identity()
    path = tmp_path / "ours.txt"
    path.write_text(identity_string(identity) + "\n")
    derived = subprocess.run(
        [AGE_KEYGEN, "-y", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert derived == recipient_string(identity.public_key())
    assert parse_identity(identity_string(identity)).private_bytes_raw() == (
        identity.private_bytes_raw()
    )


@pytest.mark.parametrize("made_by_age", [False, True], ids=["ours", "age"])
def test_rewrap_header_shares_without_touching_the_payload(
    tmp_path: Path, age_identity: tuple[Path, str], made_by_age: bool
) -> None:
    reader_file, reader = age_identity
    owner = generate_x25519_identity()
    owner_recipient = recipient_string(owner.public_key())
    plain = os.urandom(3 * CHUNK + 5)
    if made_by_age:
        original = subprocess.run(
            [AGE, "-r", owner_recipient], input=plain, check=True, capture_output=True
        ).stdout
    else:
        sink = io.BytesIO()
        encrypt(io.BytesIO(plain), sink, [owner.public_key()])
        original = sink.getvalue()

    shared = io.BytesIO()
    rewrap_header(io.BytesIO(original), shared, [owner], [owner.public_key(), reader])
    rewrapped = shared.getvalue()
    assert rewrapped[_header_length(rewrapped) :] == original[_header_length(original) :]
    (tmp_path / "shared.age").write_bytes(rewrapped)
    out = subprocess.run(
        [AGE, "-d", "-i", str(reader_file), str(tmp_path / "shared.age")],
        check=True,
        capture_output=True,
    ).stdout
    assert out == plain
    back = io.BytesIO()
    decrypt(io.BytesIO(rewrapped), back, [owner])
    assert back.getvalue() == plain


def test_rewrap_header_to_others_only_drops_the_old_reader() -> None:
    owner, reader = generate_x25519_identity(), generate_x25519_identity()
    sealed = io.BytesIO()
    encrypt(io.BytesIO(b"draft law"), sealed, [owner.public_key()])
    moved = io.BytesIO()
    rewrap_header(io.BytesIO(sealed.getvalue()), moved, [owner], [reader.public_key()])
    with pytest.raises(NoIdentityMatched):
        decrypt(io.BytesIO(moved.getvalue()), io.BytesIO(), [owner])


def test_rewrap_header_needs_a_matching_identity() -> None:
    owner, stranger = generate_x25519_identity(), generate_x25519_identity()
    sealed = io.BytesIO()
    encrypt(io.BytesIO(b"draft law"), sealed, [owner.public_key()])
    out = io.BytesIO()
    with pytest.raises(NoIdentityMatched):
        rewrap_header(io.BytesIO(sealed.getvalue()), out, [stranger], [stranger.public_key()])
    assert out.getvalue() == b""


def _cli(*args: str, stdin: bytes = b"", check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "keys.age", *args], input=stdin, capture_output=True, check=check
    )


def test_cli_interoperates_with_age(tmp_path: Path, age_identity: tuple[Path, str]) -> None:
    age_file, age_recipient = age_identity
    ours_file = tmp_path / "ours.txt"
    _cli("keygen", "-o", str(ours_file))
    lines = ours_file.read_text().splitlines()
    assert lines[1].startswith("# public key: age1")
    assert (ours_file.stat().st_mode & 0o777) == 0o600
    ours_recipient = lines[1].removeprefix("# public key: ")
    recipients_file = tmp_path / "recipients.txt"
    recipients_file.write_text(f"# the reviewing State\n{age_recipient}\n\n")
    plain = tmp_path / "plain"
    _write_random(plain, 100_000)

    sealed = tmp_path / "sealed.age"
    _cli("-r", ours_recipient, "-R", str(recipients_file), "-o", str(sealed), str(plain))
    by_age = subprocess.run(
        [AGE, "-d", "-i", str(age_file), str(sealed)], check=True, capture_output=True
    ).stdout
    assert by_age == plain.read_bytes()
    assert _cli("-d", "-i", str(ours_file), str(sealed)).stdout == plain.read_bytes()

    from_age = subprocess.run(
        [AGE, "-r", ours_recipient], input=plain.read_bytes(), check=True, capture_output=True
    ).stdout
    assert _cli("-d", "-i", str(ours_file), stdin=from_age).stdout == plain.read_bytes()

    # Keygen to stdout prints a usable identity, like age-keygen.
    printed = _cli("-k").stdout.decode()
    assert printed.splitlines()[1].startswith("# public key: age1")
    assert len(parse_identity_file(printed)) == 1


def test_cli_failed_decryption_leaves_no_output_file(tmp_path: Path) -> None:
    owner, stranger = generate_x25519_identity(), generate_x25519_identity()
    sealed = io.BytesIO()
    encrypt(io.BytesIO(b"x" * 200_000), sealed, [owner.public_key()])
    damaged = bytearray(sealed.getvalue())
    damaged[-100] ^= 1
    (tmp_path / "damaged.age").write_bytes(bytes(damaged))
    (tmp_path / "owner.txt").write_text(identity_string(owner) + "\n")
    (tmp_path / "stranger.txt").write_text(identity_string(stranger) + "\n")
    for identity in ("owner.txt", "stranger.txt"):
        result = _cli(
            "-d",
            "-i",
            str(tmp_path / identity),
            "-o",
            str(tmp_path / "out"),
            str(tmp_path / "damaged.age"),
            check=False,
        )
        assert result.returncode == 1
        assert b"error" in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "damaged.age",
            "owner.txt",
            "stranger.txt",
        ]


def test_cli_rejects_a_bad_recipient() -> None:
    result = _cli("-r", "age1notarecipient", check=False)
    assert result.returncode == 1
    assert b"not an age X25519 recipient" in result.stderr


def test_streams_without_readinto_and_raw_files(tmp_path: Path) -> None:
    class ReadOnly(io.RawIOBase):
        """A readable stream offering read() but not readinto()."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

        readinto = None  # type: ignore[assignment]

    identity = generate_x25519_identity()
    plain = os.urandom(2 * CHUNK + 1)
    with (tmp_path / "sealed").open("wb", buffering=0) as raw:
        encrypt(ReadOnly(plain), raw, [identity.public_key()])  # type: ignore[arg-type]
    back = io.BytesIO()
    with (tmp_path / "sealed").open("rb", buffering=0) as raw:
        decrypt(raw, back, [identity])
    assert hashlib.sha256(back.getvalue()).digest() == hashlib.sha256(plain).digest()


class _Trickle(io.RawIOBase):
    """A source that hands out at most a few hundred bytes per read, like a slow pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), len(self._data), 777)
        buffer[:count] = self._data[:count]
        self._data = self._data[count:]
        return count


@pytest.mark.parametrize("chunks", [16, 64])
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_round_trip_around_buffer_boundaries(chunks: int, delta: int) -> None:
    identity = generate_x25519_identity()
    plain = os.urandom(chunks * CHUNK + delta)
    sealed = io.BytesIO()
    assert encrypt(_Trickle(plain), sealed, [identity.public_key()]) == len(plain)  # type: ignore[arg-type]
    back = io.BytesIO()
    assert decrypt(_Trickle(sealed.getvalue()), back, [identity]) == len(plain)  # type: ignore[arg-type]
    assert back.getvalue() == plain
    # Cut after any one whole chunk near the boundary: the rest fails, nothing bad leaks.
    start = _header_length(sealed.getvalue()) + 16
    for kept in (chunks - 1, chunks):
        cut = sealed.getvalue()[: start + kept * (CHUNK + 16)]
        if len(cut) >= len(sealed.getvalue()):
            continue
        back = io.BytesIO()
        with pytest.raises(PayloadError, match="final chunk is missing"):
            decrypt(io.BytesIO(cut), back, [identity])
        assert plain.startswith(back.getvalue())
        assert len(back.getvalue()) <= (kept - 1) * CHUNK
