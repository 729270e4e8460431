"""A bundle's tar file read defensively: plain tar only, every header checked before a byte is
written, bounded in size and number of members, every file hashed as it streams.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from keys.bundle_format import SAFE_PATH

BLOCK = 1 << 20
# tarfile reads a GNU long name or a pax header whole, as large as its header claims.
MAX_SINGLE_READ = 16 << 20
# The first bytes of the compressed formats tar files usually come in.
COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"LZIP": "lzip",
    b"\x1f\x9d": "compress",
}


class ArchiveRefused(Exception):
    """The file is not a bundle this verifier will unpack; the message says why."""


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold, checked from the tar headers before anything is written."""

    max_bytes: int = 32 << 30  # all files together
    max_members: int = 200_000
    max_small_file: int = 64 << 20  # a file read whole: sums, manifest, statements, keys
    max_object: int = 256 << 20  # one git object, inflated
    max_inflated: int = 64 << 30  # every git object of the bundle, inflated
    max_held: int = 1 << 30  # commits and trees, inflated: they are read into memory


@dataclass
class Archive:
    """The checked headers of a bundle: its one top folder and its files (relative names)."""

    tar: tarfile.TarFile
    root: str
    members: dict[str, tarfile.TarInfo] = field(default_factory=dict)

    def close(self) -> None:
        fileobj = self.tar.fileobj
        self.tar.close()
        if fileobj is not None:
            fileobj.close()  # tarfile leaves a file it was given open

    def size(self, name: str) -> int:
        return self.members[name].size

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        handle = self.tar.extractfile(self.members[name])
        if handle is None:  # not reachable: only regular files are kept
            raise ArchiveRefused(f"{name} is not a regular file")
        with handle:
            yield handle

    def read_small(self, name: str, limit: int) -> bytes:
        """A whole file that must be small (its size is in its header)."""
        if self.size(name) > limit:
            raise ArchiveRefused(f"{name} is larger than {limit} bytes")
        with self.open(name) as handle:
            return handle.read()

    def copy_hashed(self, name: str, out: Path | None, keep: int = 0) -> tuple[str, bytes]:
        """Stream a file into out (when given), returning its sha256 and its first keep bytes."""
        digest = hashlib.sha256()
        head = bytearray()
        writer = None
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            writer = os.fdopen(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        try:
            with self.open(name) as handle:
                for block in iter(lambda: handle.read(BLOCK), b""):
                    digest.update(block)
                    if len(head) < keep:
                        head += block[: keep - len(head)]
                    if writer is not None:
                        writer.write(block)
        finally:
            if writer is not None:
                writer.close()
        return digest.hexdigest(), bytes(head)


class _CappedReads(io.RawIOBase):
    """The bundle file, answering no read larger than MAX_SINGLE_READ: a header that claims
    gigabytes of long name cannot make Python allocate them. Our own reads go in BLOCKs."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > MAX_SINGLE_READ:
            raise ArchiveRefused(f"an entry header asks to read more than {MAX_SINGLE_READ} bytes")
        return self._raw.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()


def _refuse_compressed(path: Path) -> None:
    with path.open("rb") as handle:
        start = handle.read(8)
    for magic, kind in COMPRESSED.items():
        if start.startswith(magic):
            raise ArchiveRefused(
                f"the file is {kind}-compressed; a bundle is a plain tar "
                "(decompress it first, knowing how large it will be)"
            )


def _member_name(member: tarfile.TarInfo, names: set[str]) -> str:
    name = member.name
    if not SAFE_PATH.fullmatch(name):
        raise ArchiveRefused(f"unsafe entry name {name!r}")
    if not (member.isdir() or member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)):
        raise ArchiveRefused(f"{name!r} is not a plain file or folder (link, device or sparse)")
    if member.sparse is not None:
        raise ArchiveRefused(f"{name!r} is a sparse file")
    if name in names:
        raise ArchiveRefused(f"{name!r} is in the archive twice")
    return name


def open_archive(path: Path, limits: Limits) -> Archive:
    """Read and check every header; refuse anything but plain files and folders in one folder.

    Nothing is written here: sizes and counts come from the headers alone.
    """
    _refuse_compressed(path)
    handle = _CappedReads(path.open("rb"))
    try:
        tar = tarfile.open(fileobj=handle, mode="r:")
    except (tarfile.TarError, OSError) as exc:
        handle.close()
        raise ArchiveRefused(f"not a tar archive: {exc}") from exc
    except ArchiveRefused:
        handle.close()
        raise
    try:
        return _checked(tar, limits)
    except BaseException:
        tar.close()
        handle.close()
        raise


def _checked(tar: tarfile.TarFile, limits: Limits) -> Archive:
    names: set[str] = set()
    roots: set[str] = set()
    files: dict[str, tarfile.TarInfo] = {}
    total = 0
    try:
        # Iterating reads one header at a time: the limits stop a huge archive early.
        for count, member in enumerate(tar, start=1):
            if count > limits.max_members:
                raise ArchiveRefused(f"more than {limits.max_members} entries")
            name = _member_name(member, names)
            names.add(name)
            root, _, rest = name.partition("/")
            roots.add(root)
            if len(roots) > 1:
                raise ArchiveRefused("the archive must hold exactly one top-level folder")
            if member.isdir():
                continue
            if not rest:
                raise ArchiveRefused(f"{name!r} lies outside the top-level folder")
            total += member.size
            if total > limits.max_bytes:
                raise ArchiveRefused(f"the files add up to more than {limits.max_bytes} bytes")
            files[rest] = member
    except tarfile.TarError as exc:
        raise ArchiveRefused(f"not a readable tar archive: {exc}") from exc
    if not roots:
        raise ArchiveRefused("the archive is empty")
    # tarfile keeps what it read; members are reached by their headers from here on.
    return Archive(tar=tar, root=roots.pop(), members=files)
