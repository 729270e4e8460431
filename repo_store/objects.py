"""Git objects read and written in-process (gitdb), made durable with fsync before use."""

from __future__ import annotations

import hashlib
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from io import BytesIO
from pathlib import Path
from stat import S_ISDIR
from types import TracebackType

from git.objects.fun import tree_entries_from_data, tree_to_stream
from gitdb import GitDB
from gitdb.exc import BadObject

from repo_store.errors import UnknownVersion

TREE_MODE = 0o040000
BLOB_MODE = 0o100644

TreeEntries = dict[str, tuple[bytes, int]]  # name -> (binary sha, mode)


def fsync_path(path: Path | str) -> None:
    """fsync a file or directory by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing a file's dirty pages now, without waiting for them.

    On Linux POSIX_FADV_DONTNEED starts writeback before it drops clean pages. Started for
    every new file of a commit as it is written, the writes overlap instead of each waiting
    for its own fsync. Durability still comes from the fsync.
    """
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def object_id(kind: bytes, data: bytes) -> bytes:
    """The binary id git gives an object of this type and content."""
    digest = hashlib.sha1(b"%s %d\x00" % (kind, len(data)), usedforsecurity=False)  # git's naming
    digest.update(data)
    return digest.digest()


class ObjectReader:
    """Reads objects (loose or packed) of one repository, caching parsed trees.

    Objects are immutable, so a cache keyed by sha is never stale.
    """

    _TREE_CACHE_SIZE = 4096

    def __init__(self, objects_dir: Path) -> None:
        self._objects_dir = str(objects_dir)
        self._db = self._open()
        self._trees: OrderedDict[bytes, TreeEntries] = OrderedDict()
        self._lock = threading.Lock()

    def _open(self) -> GitDB:
        """A GitDB whose lists of databases and packs are complete before any thread sees it.

        gitdb builds them on first use, without a lock, and publishes each list before filling
        it: a second thread reading at that moment finds no loose objects at all.
        """
        db = GitDB(self._objects_dir)
        db.update_cache(force=True)
        return db

    def read(self, binsha: bytes, expected_type: bytes) -> bytes:
        try:
            stream = self._db.stream(binsha)
        except (BadObject, ValueError):
            # Someone may have repacked since the pack list was read: look once more, in a
            # database opened afresh, since updating the shared one in place would show other
            # threads a half-updated pack list.
            db = self._db = self._open()
            try:
                stream = db.stream(binsha)
            except (BadObject, ValueError) as exc:
                raise UnknownVersion(f"no object {binsha.hex()}") from exc
        if stream.type != expected_type:
            raise UnknownVersion(
                f"{binsha.hex()} is a {stream.type.decode()}, not a {expected_type.decode()}"
            )
        data: bytes = stream.read()
        return data

    def has(self, binsha: bytes) -> bool:
        return bool(self._db.has_object(binsha))

    def tree(self, binsha: bytes) -> TreeEntries:
        with self._lock:
            cached = self._trees.get(binsha)
            if cached is not None:
                self._trees.move_to_end(binsha)
                return cached
        entries = {
            name: (sha, mode)
            for sha, mode, name in tree_entries_from_data(self.read(binsha, b"tree"))
        }
        self.remember_tree(binsha, entries)
        return entries

    def remember_tree(self, binsha: bytes, entries: TreeEntries) -> None:
        """Cache the entries of a tree this process has parsed or just written.

        Every name in the cache has been checked (by GitPython's parser or writer), so
        ObjectWriter may copy cached entries into a new tree without checking them again.
        """
        with self._lock:
            self._trees[binsha] = entries
            self._trees.move_to_end(binsha)
            if len(self._trees) > self._TREE_CACHE_SIZE:
                self._trees.popitem(last=False)

    def entry_at(self, root: bytes, path: str) -> tuple[bytes, int] | None:
        """Return (sha, mode) at a slash-separated path below root, or None."""
        entries = self.tree(root)
        parts = path.split("/")
        for depth, part in enumerate(parts):
            found = entries.get(part)
            if found is None:
                return None
            if depth == len(parts) - 1:
                return found
            if not S_ISDIR(found[1]):
                return None
            entries = self.tree(found[0])
        return None


def tree_files(reader: ObjectReader, root: bytes | None) -> dict[str, bytes]:
    """Every file below a tree, by its slash-separated path: its blob id (none for no tree)."""
    found: dict[str, bytes] = {}

    def walk(binsha: bytes, prefix: str) -> None:
        for name, (sha, mode) in reader.tree(binsha).items():
            if S_ISDIR(mode):
                walk(sha, f"{prefix}{name}/")
            else:
                found[prefix + name] = sha

    if root is not None:
        walk(root, "")
    return found


def _tree_order(item: tuple[str, tuple[bytes, int]]) -> str:
    # git orders tree entries by name, comparing a directory as if its name ended in "/".
    name, (_sha, mode) = item
    return name + "/" if S_ISDIR(mode) else name


def _entry_bytes(name: str, binsha: bytes, mode: int) -> bytes:
    # Names were decoded with surrogateescape (GitPython's parser), so this gives back the
    # bytes that were read. "%o" is git's mode spelling: 100644, 40000.
    return b"%o %s\x00%s" % (mode, name.encode("utf-8", "surrogateescape"), binsha)


def _checked_entry_bytes(name: str, binsha: bytes, mode: int) -> bytes:
    # GitPython's writer refuses names git would refuse (".git", "..", "a/b" and the like).
    buffer = BytesIO()
    tree_to_stream([(binsha, mode, name)], buffer.write)
    return buffer.getvalue()


def _split_paths(
    files: Mapping[str, bytes],
) -> tuple[dict[str, bytes], dict[str, dict[str, bytes]]]:
    """Split paths into blobs at this level and the files of each subdirectory."""
    blobs: dict[str, bytes] = {}
    subtrees: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, _, rest = path.partition("/")
        if rest:
            subtrees.setdefault(head, {})[rest] = data
        else:
            blobs[head] = data
    return blobs, subtrees


class ObjectWriter:
    """Writes new loose objects for one commit, then makes them durable in one pass.

    gitdb's LooseObjectDB.store renames its temporary file into place without fsync and costs a
    chmod and a retry loop per object; a loose object is only zlib(header + data), so we write
    it here and fsync once per commit (docs/decisions.md). Use it as a context manager: the
    descriptors it keeps open until make_durable are closed on the way out.
    """

    def __init__(self, objects_dir: Path, reader: ObjectReader) -> None:
        self._objects_dir = str(objects_dir)
        self._reader = reader
        # New objects stay open until make_durable, which fsyncs them without opening them
        # again; objects found on disk already are fsynced by path.
        self._new: list[int] = []
        self._found: list[str] = []
        self._directories: set[str] = set()
        self._new_directories = False

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def write(self, kind: bytes, data: bytes) -> bytes:
        """Write one object unless it exists; return its binary id."""
        binsha = object_id(kind, data)
        self._write_as(binsha, kind, data)
        return binsha

    def _write_as(self, binsha: bytes, kind: bytes, data: bytes) -> None:
        hexsha = binsha.hex()
        directory = os.path.join(self._objects_dir, hexsha[:2])
        path = os.path.join(directory, hexsha[2:])
        if os.path.exists(path):
            # It may be the leftover of a write that failed before its fsync: make it durable
            # with this commit's objects (cheap when it is durable already).
            self._found.append(path)
        else:
            header = b"%s %d\x00" % (kind, len(data))
            self._store(directory, hexsha, path, zlib.compress(header + data, 1))
        self._directories.add(directory)

    def _store(self, directory: str, hexsha: str, path: str, body: bytes) -> None:
        # The writer holds the repository lock, so a name unique to this process and thread is
        # enough; O_EXCL still refuses to reuse a file a crashed writer left behind.
        name = f"tmp_obj_{os.getpid()}_{threading.get_ident()}_{hexsha[:8]}"
        tmp = os.path.join(directory, name)
        fd = self._create(directory, tmp)
        try:
            os.write(fd, body)
            start_writeback(fd)
            os.replace(tmp, path)
        except BaseException:
            os.close(fd)
            raise
        self._new.append(fd)

    def _create(self, directory: str, tmp: str) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            return os.open(tmp, flags, 0o444)
        except FileNotFoundError:  # the first object in this fan-out directory
            Path(directory).mkdir(exist_ok=True)
            self._new_directories = True
        except FileExistsError:  # left behind by a writer that crashed
            os.unlink(tmp)
        return os.open(tmp, flags, 0o444)

    def write_paths(self, root: bytes | None, files: Mapping[str, bytes]) -> bytes:
        """Write a new root tree: root with each path set to a new blob of the given bytes."""
        blobs, subtrees = _split_paths(files)
        old: TreeEntries = self._reader.tree(root) if root is not None else {}
        entries = dict(old)
        for name, data in blobs.items():
            binsha = object_id(b"blob", data)
            # A blob the parent tree names already is durable: it was before the ref moved.
            if old.get(name, (None, 0))[0] != binsha:
                self._write_as(binsha, b"blob", data)
            entries[name] = (binsha, BLOB_MODE)
        for name, sub_files in subtrees.items():
            existing = old.get(name)
            sub_root = existing[0] if existing and S_ISDIR(existing[1]) else None
            entries[name] = (self.write_paths(sub_root, sub_files), TREE_MODE)
        return self._write_tree(entries, checked=old)

    def _write_tree(self, entries: TreeEntries, checked: TreeEntries) -> bytes:
        """Write a tree; names in checked were checked when that tree was read or written."""
        data = b"".join(
            _entry_bytes(name, sha, mode)
            if name in checked
            else _checked_entry_bytes(name, sha, mode)
            for name, (sha, mode) in sorted(entries.items(), key=_tree_order)
        )
        binsha = self.write(b"tree", data)
        self._reader.remember_tree(binsha, entries)
        return binsha

    def make_durable(self, also: Sequence[int] = ()) -> None:
        """fsync every object (and the open files in also), then the directories naming them.

        Writeback of every new file started as it was written, so these mostly wait for
        writes already under way.
        """
        for fd in [*self._new, *also]:
            os.fsync(fd)
        for path in self._found:
            fsync_path(path)
        for directory in sorted(self._directories):
            fsync_path(directory)
        if self._new_directories:
            fsync_path(self._objects_dir)
        self._close()

    def _close(self) -> None:
        for fd in self._new:
            os.close(fd)
        self._new.clear()
        self._found.clear()
        self._directories.clear()
        self._new_directories = False


class TreeHasher(ObjectWriter):
    """An ObjectWriter that only computes ids: what a commit's tree would be, nothing written."""

    def _write_as(self, binsha: bytes, kind: bytes, data: bytes) -> None:
        pass
