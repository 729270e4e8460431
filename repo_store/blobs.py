"""Encrypted attachment bodies, content-addressed by ciphertext sha256 (docs/attachments.md)."""

from __future__ import annotations

import hashlib
import hmac
import os
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from keys.age import decrypt, encrypt, read_header_stanzas, rewrap_header
from keys.age.errors import AgeError
from keys.age.header import MAX_HEADER
from keys.age.x25519 import STANZA_TYPE
from repo_store.names import InvalidName
from repo_store.objects import fsync_path

BLOB_SHA256 = re.compile(r"[0-9a-f]{64}")
SUFFIX = ".age"
_TMP = "tmp"
_PENDING = "pending"
_STAGED = re.compile(r"blob-[A-Za-z0-9_]{1,32}\.age")
_READ_BUFFER = 1024 * 1024
# The age payload layout (docs/age-format.md): a 16-byte nonce, then 64 KiB chunks each
# followed by a 16-byte tag; only an empty file has an empty chunk.
_NONCE_SIZE = 16
_TAG_SIZE = 16
_SEALED_CHUNK = 64 * 1024 + _TAG_SIZE
# Blobs are never rewritten in place: a new recipient list makes a new blob.
_BLOB_MODE = 0o400


class BlobError(Exception):
    """Base class for blob store errors."""


class BlobTooLarge(BlobError):
    """The source held more than the allowed number of plaintext bytes."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the attachment is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class NotAnAgeFile(BlobError):
    """An upload encrypted elsewhere is not a well-formed age file for the recipients asked."""


class BlobNotFound(BlobError):
    """No blob with that sha256 is stored."""


class BlobCorrupted(BlobError):
    """A stored blob's bytes no longer hash to its name."""


@dataclass(frozen=True)
class StoredBlob:
    """A durable blob: its name (ciphertext sha256), plaintext size and ciphertext size."""

    sha256: str
    size: int
    ciphertext_size: int


@dataclass(frozen=True)
class StagedBlob:
    """An age file encrypted elsewhere, set aside until the commit that names it is signed."""

    name: str  # its file name in the pending area
    blob: StoredBlob


def check_blob_sha256(sha256: str) -> str:
    """Return sha256 if it is 64 lower-case hexadecimal digits (it becomes a path)."""
    if not BLOB_SHA256.fullmatch(sha256):
        raise InvalidName(f"invalid blob id {sha256!r}")
    return sha256


def _fill(src: BinaryIO, view: memoryview) -> int:
    """Read from src into view once; return the number of bytes read (0 at the end)."""
    readinto = getattr(src, "readinto", None)
    if readinto is not None:
        count = readinto(view)
        return int(count or 0)
    data = src.read(len(view))
    view[: len(data)] = data
    return len(data)


class _LimitedReader:
    """Passes a source through, raising BlobTooLarge once it yields more than max_bytes.

    Each read asks the source for at most one byte beyond the limit, so an oversized upload
    is refused after max_bytes + 1 bytes, however large it is.
    """

    def __init__(self, src: BinaryIO, max_bytes: int) -> None:
        self._src = src
        self._max_bytes = max_bytes
        self.count = 0

    def readinto(self, buffer: memoryview | bytearray) -> int:
        view = memoryview(buffer).cast("B")
        allowed = self._max_bytes - self.count + 1
        got = _fill(self._src, view[: min(len(view), allowed)])
        self.count += got
        if self.count > self._max_bytes:
            raise BlobTooLarge(self._max_bytes)
        return got

    def read(self, size: int = -1) -> bytes:
        if size >= 0:
            buffer = bytearray(size)
            return bytes(buffer[: self.readinto(buffer)])
        # Read to the end: bounded all the same, by the limit.
        out = bytearray()
        while piece := self.read(_READ_BUFFER):
            out += piece
        return bytes(out)


class _HashingWriter:
    """Passes writes through to dst, hashing and counting exactly the bytes accepted.

    Hashing and writing run on a second thread, beside the encryption: SHA-256 alone is slower
    than ChaCha20 on processors without SHA instructions, and both hashlib and file writes
    release the GIL, so the pipeline costs about the slower of the two, not their sum.
    """

    _QUEUE_DEPTH = 2

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self.digest = hashlib.sha256()
        self.count = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(self._QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._drain, daemon=True)
        self._worker.start()

    def _drain(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                written = self._dst.write(chunk)
                if written != len(chunk):
                    raise OSError("short write to the blob's temporary file")
                self.digest.update(chunk)
            except BaseException as exc:  # handed back to the producer in finish()
                self._error = exc

    def write(self, data: bytes | memoryview) -> int:
        if self._error is not None:
            raise self._error
        chunk = bytes(data)  # the encryptor reuses its buffer
        self._queue.put(chunk)
        self.count += len(chunk)
        return len(chunk)

    def finish(self) -> None:
        """Wait for every write to land; raise what the worker met."""
        self._queue.put(None)
        self._worker.join()
        if self._error is not None:
            raise self._error


class _HashingReader:
    """Passes a stored blob through, hashing every byte read (header lines and payload)."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.digest = hashlib.sha256()

    def readline(self, size: int = -1) -> bytes:
        line = self._src.readline(size)
        self.digest.update(line)
        return line

    def readinto(self, buffer: memoryview | bytearray) -> int:
        view = memoryview(buffer).cast("B")
        got = _fill(self._src, view)
        self.digest.update(view[:got])
        return got

    def read(self, size: int = -1) -> bytes:
        data = self._src.read(size)
        self.digest.update(data)
        return data

    def drain(self) -> None:
        """Hash whatever the reader's consumer left unread."""
        buffer = bytearray(_READ_BUFFER)
        while self.readinto(buffer):
            pass


def _plaintext_size(payload_size: int) -> int:
    """The plaintext size an age payload of this many bytes carries."""
    sealed = max(0, payload_size - _NONCE_SIZE)
    chunks = max(1, -(-sealed // _SEALED_CHUNK))
    return max(0, sealed - chunks * _TAG_SIZE)


def _staged_plaintext(path: Path, stanzas: int) -> int:
    """The plaintext size of the age file at path, checked for its header and payload."""
    with path.open("rb") as stream:
        try:
            found = read_header_stanzas(stream)
        except AgeError as exc:
            raise NotAnAgeFile(f"not an age v1 file: {exc}") from exc
        payload = os.fstat(stream.fileno()).st_size - stream.tell()
    if len(found) != stanzas or any(stanza.type != STANZA_TYPE for stanza in found):
        raise NotAnAgeFile(
            f"the file must be encrypted to exactly {stanzas} X25519 recipients, "
            f"not {len(found)} recipient stanzas of types {sorted({s.type for s in found})}"
        )
    if payload < _NONCE_SIZE + _TAG_SIZE:
        raise NotAnAgeFile("the age file has no payload")
    return _plaintext_size(payload)


def _hashes_to(path: Path, sha256: str) -> bool:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_READ_BUFFER):
            digest.update(chunk)
    return hmac.compare_digest(digest.hexdigest(), sha256)


class BlobStore:
    """Encrypted bodies at ROOT/ab/<sha256>.age, named by the sha256 of their ciphertext."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the blob named sha256 lives (whether or not it exists)."""
        check_blob_sha256(sha256)
        return self.root / sha256[:2] / f"{sha256}{SUFFIX}"

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """Open the stored ciphertext for reading."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {sha256}") from None

    def put(
        self, src: BinaryIO, recipients: Sequence[X25519PublicKey], *, max_bytes: int
    ) -> StoredBlob:
        """Encrypt src for recipients and store it durably; refuse more than max_bytes.

        Nothing is left behind when this raises, whether the limit was hit, the source failed
        part way (a client that went away) or the disk did.
        """
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        limited = _LimitedReader(src, max_bytes)

        def produce(dst: BinaryIO) -> int:
            # The reader satisfies what keys.age uses of a binary stream: read and readinto.
            size = encrypt(cast(BinaryIO, limited), dst, recipients)
            if size != limited.count:
                raise BlobError("the encrypted size does not match the bytes read")
            return size

        return self._write(produce)

    def decrypt_to(self, sha256: str, dst: BinaryIO, identities: Sequence[X25519PrivateKey]) -> int:
        """Decrypt the blob to dst with the first of identities that matches; return its size.

        Every byte read is also hashed and checked against the blob's name at the end, so a
        blob swapped for another well-formed age file raises BlobCorrupted. As with
        keys.age.decrypt, authenticated plaintext may already have reached dst when an error
        is raised part way: callers who need all-or-nothing decrypt to a temporary file.
        """
        with self._verified(sha256) as src:
            return decrypt(src, dst, identities)

    def rewrap(
        self,
        sha256: str,
        identities: Sequence[X25519PrivateKey],
        recipients: Sequence[X25519PublicKey],
    ) -> StoredBlob:
        """Store a copy of the blob readable by recipients instead; the old blob is kept.

        Only the header is made anew (keys.age.rewrap_header): the payload is copied byte for
        byte. The old blob stays, because earlier commits point at it.
        """
        with self.open(sha256) as stream:
            read_header_stanzas(stream)
            header_size = stream.tell()
            payload_size = os.fstat(stream.fileno()).st_size - header_size
        size = _plaintext_size(payload_size)

        def produce(dst: BinaryIO) -> int:
            with self._verified(sha256) as src:
                rewrap_header(src, dst, identities, recipients)
            return size

        return self._write(produce)

    def verify_hash(self, sha256: str) -> bool:
        """Whether the stored bytes still hash to the blob's name (compared in constant time)."""
        digest = hashlib.sha256()
        buffer = bytearray(_READ_BUFFER)
        view = memoryview(buffer)
        with self.open(sha256) as stream:
            while got := _fill(stream, view):
                digest.update(view[:got])
        return hmac.compare_digest(digest.hexdigest(), sha256)

    # -- age files encrypted elsewhere -----------------------------------------------------------

    def stage(self, src: BinaryIO, *, max_bytes: int, stanzas: int) -> StagedBlob:
        """Keep an age file as it came, in the pending area, once it proves well formed.

        It must have a valid age v1 header with exactly `stanzas` X25519 recipient stanzas
        (nothing more can be checked without a key) and a payload that can carry at most
        max_bytes of plaintext. Nothing is left behind when this raises.
        """
        pending = self._directory(_PENDING)
        fd, tmp_name = tempfile.mkstemp(dir=pending, prefix="blob-", suffix=SUFFIX)
        tmp = Path(tmp_name)
        # The header and the tags of the chunks come on top of the plaintext.
        limited = _LimitedReader(src, max_bytes + MAX_HEADER + _NONCE_SIZE + max_bytes // 4096 + 64)
        try:
            with os.fdopen(fd, "wb") as raw:
                writer = _HashingWriter(cast(BinaryIO, raw))
                buffer = bytearray(_READ_BUFFER)
                while got := limited.readinto(buffer):
                    writer.write(memoryview(buffer)[:got])
                writer.finish()
                raw.flush()
                os.fsync(raw.fileno())
            size = _staged_plaintext(tmp, stanzas)
            if size > max_bytes:
                raise BlobTooLarge(max_bytes)
            sha256 = writer.digest.hexdigest()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StagedBlob(tmp.name, StoredBlob(sha256, size, writer.count))

    def place_staged(self, name: str, sha256: str) -> bool:
        """Move a staged file to its content address; True if no such blob was stored before."""
        path = self._staged(name)
        if not self.exists(sha256) and not _hashes_to(path, sha256):
            raise BlobCorrupted(f"the pending file {name} does not match its sha256")
        new = not self.exists(sha256)
        self._place(path, sha256)
        return new

    def same_payload(self, name: str, sha256: str) -> bool:
        """Whether a staged age file carries, after its header, the very bytes of a stored
        blob's payload (a re-wrap may change the header only)."""
        with self._staged(name).open("rb") as staged, self.open(sha256) as stored:
            read_header_stanzas(staged)
            read_header_stanzas(stored)
            while True:
                mine, theirs = staged.read(_READ_BUFFER), stored.read(_READ_BUFFER)
                if mine != theirs:
                    return False
                if not mine:
                    return True

    def remove(self, sha256: str) -> None:
        """Delete a blob that no pointer names (one placed for a commit that failed)."""
        path = self.path(sha256)
        path.unlink(missing_ok=True)
        fsync_path(path.parent)

    def discard_staged(self, name: str) -> None:
        self._staged(name).unlink(missing_ok=True)

    def sweep_staged(self, older_than: float) -> int:
        """Delete staged files last written more than older_than seconds ago; return how many."""
        pending = self.root / _PENDING
        if not pending.is_dir():
            return 0
        swept = 0
        deadline = time.time() - older_than
        for path in pending.iterdir():
            if _STAGED.fullmatch(path.name) and path.stat().st_mtime < deadline:
                path.unlink(missing_ok=True)
                swept += 1
        return swept

    def _staged(self, name: str) -> Path:
        if not _STAGED.fullmatch(name):
            raise BlobNotFound(f"no pending file {name!r}")
        return self.root / _PENDING / name

    def _directory(self, name: str) -> Path:
        """ROOT/name, made durably if it is not there yet."""
        if not self.root.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            fsync_path(self.root.parent)
        directory = self.root / name
        if self._make_dir(directory):
            fsync_path(self.root)
        return directory

    # -- internals ----------------------------------------------------------------------------

    @contextmanager
    def _verified(self, sha256: str) -> Iterator[BinaryIO]:
        """Open the blob through a hashing reader; raise BlobCorrupted if its hash is wrong."""
        with self.open(sha256) as stream:
            reader = _HashingReader(stream)
            # The reader satisfies what keys.age uses of a binary stream: readline and readinto.
            yield cast(BinaryIO, reader)
            reader.drain()
        if not hmac.compare_digest(reader.digest.hexdigest(), sha256):
            raise BlobCorrupted(f"blob {sha256} does not match its sha256")

    def _make_dir(self, path: Path) -> bool:
        """Create path (not its parents); return whether this call made it."""
        try:
            path.mkdir()
        except FileExistsError:
            return False
        return True

    def _write(self, produce: Callable[[BinaryIO], int]) -> StoredBlob:
        """Run produce into a temporary file, then move it durably to its content address.

        produce writes the ciphertext and returns the plaintext size. See docs/attachments.md
        for the order of fsyncs and renames.
        """
        tmp_dir = self._directory(_TMP)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="blob-", suffix=SUFFIX)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as raw:
                writer = _HashingWriter(cast(BinaryIO, raw))
                try:
                    # The writer satisfies what keys.age uses of a binary stream: write.
                    size = produce(cast(BinaryIO, writer))
                finally:
                    writer.finish()
                raw.flush()
                os.fsync(raw.fileno())
            sha256 = writer.digest.hexdigest()
            blob = StoredBlob(sha256=sha256, size=size, ciphertext_size=writer.count)
            self._place(tmp, sha256)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return blob

    def _place(self, tmp: Path, sha256: str) -> None:
        """Rename the durable temporary file to its address and make the rename durable."""
        target = self.path(sha256)
        new_dir = self._make_dir(target.parent)
        if target.exists():
            # Same name, same bytes: the blob is already stored.
            tmp.unlink()
        else:
            os.chmod(tmp, _BLOB_MODE)
            os.replace(tmp, target)
        fsync_path(target.parent)
        if new_dir:
            fsync_path(self.root)
