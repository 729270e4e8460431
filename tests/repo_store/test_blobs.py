"""The blob store keeps encrypted bodies durable, content-addressed, and never half-written."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from keys.age import (
    AgeError,
    NoIdentityMatched,
    decrypt,
    encrypt,
    identity_string,
    read_header_stanzas,
)
from keys.party_keys import KeyStore
from repo_store.blobs import (
    BlobCorrupted,
    BlobNotFound,
    BlobStore,
    BlobTooLarge,
    StoredBlob,
)
from repo_store.names import InvalidName
from repo_store.store import RepoStore

AGE = "/usr/bin/age"


class Disconnect(ConnectionError):
    """A client that goes away part way through an upload."""


class FailingSource(io.RawIOBase):
    """Yields `good` random bytes, then raises as a dropped connection would."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left == 0:
            raise Disconnect("client went away")
        count = min(len(buffer), self.left)
        buffer[:count] = os.urandom(count)
        self.left -= count
        return count


class ZeroSource(io.RawIOBase):
    """`size` zero bytes, produced on demand and counted, never held in memory."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        self.served += count
        return count


class NullSink(io.RawIOBase):
    """Counts what is written and keeps none of it."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | memoryview) -> int:  # type: ignore[override]
        self.count += len(data)
        return len(data)


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def parties(store: RepoStore) -> KeyStore:
    """The key store, with BLR and KGZ keys made by the store fixture."""
    return store.keys


def stored_files(blobs: BlobStore) -> list[Path]:
    """Every file under the blob root, temporary files included."""
    if not blobs.root.exists():
        return []
    return sorted(p for p in blobs.root.rglob("*") if p.is_file())


def put_bytes(blobs: BlobStore, keystore: KeyStore, data: bytes, *parties: str) -> StoredBlob:
    recipients = [keystore.encryption_public_key(p) for p in parties or ("BLR",)]
    return blobs.put(io.BytesIO(data), recipients, max_bytes=len(data))


def decrypted(blobs: BlobStore, sha256: str, keystore: KeyStore, party: str) -> bytes:
    out = io.BytesIO()
    blobs.decrypt_to(sha256, out, [keystore.current(party).encryption_key])
    return out.getvalue()


def header_length(data: bytes) -> int:
    return data.index(b"\n", data.index(b"\n---") + 1) + 1


def test_put_stores_at_its_ciphertext_address(blobs: BlobStore, parties: KeyStore) -> None:
    plain = os.urandom(200_000)
    blob = put_bytes(blobs, parties, plain)
    path = blobs.root / blob.sha256[:2] / f"{blob.sha256}.age"
    assert blobs.path(blob.sha256) == path
    assert blobs.exists(blob.sha256)
    ciphertext = path.read_bytes()
    assert hashlib.sha256(ciphertext).hexdigest() == blob.sha256
    assert blob.size == len(plain)
    assert blob.ciphertext_size == len(ciphertext)
    assert path.stat().st_mode & 0o777 == 0o400
    assert stored_files(blobs) == [path]
    assert blobs.verify_hash(blob.sha256)
    assert decrypted(blobs, blob.sha256, parties, "BLR") == plain


def test_stock_age_decrypts_a_stored_blob(
    blobs: BlobStore, parties: KeyStore, tmp_path: Path
) -> None:
    plain = os.urandom(150_001)
    blob = put_bytes(blobs, parties, plain)
    identity = tmp_path / "blr.key"
    identity.write_text(identity_string(parties.current("BLR").encryption_key) + "\n")
    result = subprocess.run(
        [AGE, "-d", "-i", str(identity), str(blobs.path(blob.sha256))],
        capture_output=True,
        check=True,
    )
    assert result.stdout == plain


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 131_072, 300_000])
def test_sizes_round_trip(blobs: BlobStore, parties: KeyStore, size: int) -> None:
    plain = os.urandom(size)
    blob = put_bytes(blobs, parties, plain)
    assert blob.size == size
    assert decrypted(blobs, blob.sha256, parties, "BLR") == plain


def test_a_state_b_key_cannot_decrypt_a_state_a_attachment_until_rewrapped(
    blobs: BlobStore, parties: KeyStore
) -> None:
    plain = os.urandom(100_000)
    old = put_bytes(blobs, parties, plain, "BLR")
    with pytest.raises(NoIdentityMatched):
        decrypted(blobs, old.sha256, parties, "KGZ")

    blr = parties.current("BLR").encryption_key
    new = blobs.rewrap(
        old.sha256,
        [blr],
        [parties.encryption_public_key("BLR"), parties.encryption_public_key("KGZ")],
    )
    assert new.sha256 != old.sha256
    assert new.size == old.size == len(plain)
    assert decrypted(blobs, new.sha256, parties, "KGZ") == plain
    assert decrypted(blobs, new.sha256, parties, "BLR") == plain
    # The old blob stays for the commits that point at it, still closed to KGZ.
    assert blobs.exists(old.sha256)
    with pytest.raises(NoIdentityMatched):
        decrypted(blobs, old.sha256, parties, "KGZ")
    old_bytes = blobs.path(old.sha256).read_bytes()
    new_bytes = blobs.path(new.sha256).read_bytes()
    assert old_bytes[header_length(old_bytes) :] == new_bytes[header_length(new_bytes) :]
    assert new.ciphertext_size == len(new_bytes)
    with blobs.open(new.sha256) as stream:
        assert len(read_header_stanzas(stream)) == 2


@pytest.mark.parametrize("size", [0, 1, 65_536, 65_537, 200_000])
def test_rewrap_reports_the_plaintext_size(blobs: BlobStore, parties: KeyStore, size: int) -> None:
    old = put_bytes(blobs, parties, os.urandom(size))
    new = blobs.rewrap(
        old.sha256, [parties.current("BLR").encryption_key], [parties.encryption_public_key("KGZ")]
    )
    assert new.size == size


def test_rewrap_with_a_key_that_is_not_a_recipient_stores_nothing(
    blobs: BlobStore, parties: KeyStore
) -> None:
    old = put_bytes(blobs, parties, b"draft law", "BLR")
    before = stored_files(blobs)
    with pytest.raises(NoIdentityMatched):
        blobs.rewrap(
            old.sha256,
            [parties.current("KGZ").encryption_key],
            [parties.encryption_public_key("KGZ")],
        )
    assert stored_files(blobs) == before


def test_too_large_leaves_no_temporary_file_and_no_blob(
    blobs: BlobStore, parties: KeyStore
) -> None:
    source = ZeroSource(10 * 1024 * 1024)
    with pytest.raises(BlobTooLarge) as raised:
        blobs.put(source, [parties.encryption_public_key("BLR")], max_bytes=1_000_000)  # type: ignore[arg-type]
    assert raised.value.max_bytes == 1_000_000
    assert stored_files(blobs) == []
    # Refused as soon as the limit was passed: not a byte more than one beyond it was read.
    assert source.served == 1_000_001


def test_exactly_max_bytes_is_accepted(blobs: BlobStore, parties: KeyStore) -> None:
    plain = os.urandom(70_000)
    blob = blobs.put(io.BytesIO(plain), [parties.encryption_public_key("BLR")], max_bytes=70_000)
    assert blob.size == 70_000
    with pytest.raises(BlobTooLarge):
        blobs.put(io.BytesIO(plain), [parties.encryption_public_key("BLR")], max_bytes=69_999)
    assert stored_files(blobs) == [blobs.path(blob.sha256)]


def test_a_source_failing_half_way_leaves_nothing(blobs: BlobStore, parties: KeyStore) -> None:
    source = FailingSource(3 * 1024 * 1024 + 17)
    with pytest.raises(Disconnect):
        blobs.put(source, [parties.encryption_public_key("BLR")], max_bytes=1 << 30)  # type: ignore[arg-type]
    assert stored_files(blobs) == []
    assert list((blobs.root / "tmp").iterdir()) == []


def test_failures_after_a_success_leave_the_stored_blob_alone(
    blobs: BlobStore, parties: KeyStore
) -> None:
    kept = put_bytes(blobs, parties, b"kept")
    with pytest.raises(Disconnect):
        blobs.put(FailingSource(10), [parties.encryption_public_key("BLR")], max_bytes=100)  # type: ignore[arg-type]
    assert stored_files(blobs) == [blobs.path(kept.sha256)]


@pytest.mark.parametrize("where", ["header", "payload", "last byte"])
def test_a_flipped_byte_is_detected(blobs: BlobStore, parties: KeyStore, where: str) -> None:
    blob = put_bytes(blobs, parties, os.urandom(100_000))
    path = blobs.path(blob.sha256)
    data = bytearray(path.read_bytes())
    offset = {
        "header": data.index(b"\n---") - 3,
        "payload": header_length(bytes(data)) + 40_000,
        "last byte": len(data) - 1,
    }[where]
    data[offset] ^= 0x01
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    assert not blobs.verify_hash(blob.sha256)
    with pytest.raises(AgeError):
        decrypted(blobs, blob.sha256, parties, "BLR")


def test_a_blob_swapped_for_another_valid_file_is_detected(
    blobs: BlobStore, parties: KeyStore
) -> None:
    # Anyone with a recipient's public key can make a valid age file; only the name binds it.
    blob = put_bytes(blobs, parties, b"the agreed text")
    forged = io.BytesIO()
    encrypt(io.BytesIO(b"another text"), forged, [parties.encryption_public_key("BLR")])
    path = blobs.path(blob.sha256)
    path.chmod(0o600)
    path.write_bytes(forged.getvalue())
    assert not blobs.verify_hash(blob.sha256)
    with pytest.raises(BlobCorrupted):
        decrypted(blobs, blob.sha256, parties, "BLR")
    with pytest.raises(BlobCorrupted):
        blobs.rewrap(
            blob.sha256,
            [parties.current("BLR").encryption_key],
            [parties.encryption_public_key("KGZ")],
        )
    assert stored_files(blobs) == [path]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../" + "a" * 61,
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "-" + "a" * 63,
        "a" * 63 + "\n",
        "a" * 64 + "/../x",
    ],
)
def test_a_bad_blob_name_never_becomes_a_path(blobs: BlobStore, name: str) -> None:
    with pytest.raises(InvalidName):
        blobs.path(name)
    with pytest.raises(InvalidName):
        blobs.open(name)
    with pytest.raises(InvalidName):
        blobs.exists(name)
    with pytest.raises(InvalidName):
        blobs.verify_hash(name)


def test_a_missing_blob_is_a_typed_error(blobs: BlobStore, parties: KeyStore) -> None:
    missing = "ab" * 32
    assert not blobs.exists(missing)
    with pytest.raises(BlobNotFound):
        blobs.open(missing)
    with pytest.raises(BlobNotFound):
        blobs.verify_hash(missing)
    with pytest.raises(BlobNotFound):
        decrypted(blobs, missing, parties, "BLR")


def test_memory_stays_flat_for_a_50_mb_upload_and_download(
    blobs: BlobStore, parties: KeyStore
) -> None:
    size = 50 * 1024 * 1024
    tracemalloc.start()
    try:
        blob = blobs.put(
            ZeroSource(size),  # type: ignore[arg-type]
            [parties.encryption_public_key("BLR")],
            max_bytes=size,
        )
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        sink = NullSink()
        blobs.decrypt_to(blob.sha256, sink, [parties.current("BLR").encryption_key])  # type: ignore[arg-type]
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.size == sink.count == size
    # A few 1 MiB buffers, whatever the size of the file.
    assert put_peak < 8 * 1024 * 1024
    assert get_peak < 8 * 1024 * 1024
    assert blobs.verify_hash(blob.sha256)


def test_stored_blob_decrypts_with_keys_age_directly(blobs: BlobStore, parties: KeyStore) -> None:
    blob = put_bytes(blobs, parties, b"Article 1", "BLR", "KGZ")
    for party in ("BLR", "KGZ"):
        out = io.BytesIO()
        with blobs.open(blob.sha256) as stream:
            decrypt(stream, out, [parties.current(party).encryption_key])
        assert out.getvalue() == b"Article 1"
