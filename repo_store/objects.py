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


class ObjectReader:
    """Reads objects (loose or packed) of one repository, caching parsed trees.

    Objects are immutable, so a cache keyed by sha is never stale.
    """

    _TREE_CACHE_SIZE = 4096

    def __init__(self, objects_dir: Path) -> None:
        self._db = GitDB(str(objects_dir))
        self._trees: OrderedDict[bytes, TreeEntries] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, binsha: bytes, expected_type: bytes) -> bytes:
        try:
            stream = self._db.stream(binsha)
        except (BadObject, ValueError):
            # Someone may have repacked since the pack list was read: look once more.
            self._db.update_cache(force=True)
            try:
                stream = self._db.stream(binsha)
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
        with self._lock:
            self._trees[binsha] = entries
            if len(self._trees) > self._TREE_CACHE_SIZE:
                self._trees.popitem(last=False)
        return entries

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


class ObjectWriter:
    """Writes new loose objects for one commit, then makes them durable in one pass.

    gitdb's LooseObjectDB.store renames its temporary file into place without fsync and costs a
    chmod and a retry loop per object; a loose object is only zlib(header + data), so we write
    it here and fsync once per commit (docs/decisions.md).
    """

    def __init__(self, objects_dir: Path, reader: ObjectReader) -> None:
        self._objects_dir = objects_dir
        self._reader = reader
        self._written: list[Path] = []
        self._new_dirs = False

    def write(self, kind: bytes, data: bytes) -> bytes:
        header = b"%s %d\x00" % (kind, len(data))
        digest = hashlib.sha1(header, usedforsecurity=False)  # git names objects so
        digest.update(data)
        hexsha = digest.hexdigest()
        path = self._objects_dir / hexsha[:2] / hexsha[2:]
        if path.exists():
            return digest.digest()
        if not path.parent.exists():
            path.parent.mkdir(exist_ok=True)
            self._new_dirs = True
        compressor = zlib.compressobj(1)
        body = compressor.compress(header) + compressor.compress(data) + compressor.flush()
        # The writer holds the repository lock, so a name unique to this process and thread is
        # enough; O_EXCL still refuses to reuse a file a crashed writer left behind.
        tmp = path.parent / f"tmp_obj_{os.getpid()}_{threading.get_ident()}_{hexsha[:8]}"
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, body)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        self._written.append(path)
        return digest.digest()

    def write_tree(self, entries: Mapping[str, tuple[bytes, int]]) -> bytes:
        # git orders tree entries by name, comparing a directory as if its name ended in "/".
        ordered = sorted(
            ((sha, mode, name) for name, (sha, mode) in entries.items()),
            key=lambda item: item[2] + "/" if S_ISDIR(item[1]) else item[2],
        )
        buffer = BytesIO()
        tree_to_stream(ordered, buffer.write)
        return self.write(b"tree", buffer.getvalue())

    def write_paths(self, root: bytes | None, files: Mapping[str, bytes]) -> bytes:
        """Write a new root tree: root with each path set to a new blob of the given bytes."""
        blobs: dict[str, bytes] = {}
        subtrees: dict[str, dict[str, bytes]] = {}
        for path, data in files.items():
            head, _, rest = path.partition("/")
            if rest:
                subtrees.setdefault(head, {})[rest] = data
            else:
                blobs[head] = data
        entries: TreeEntries = dict(self._reader.tree(root)) if root is not None else {}
        for name, data in blobs.items():
            entries[name] = (self.write(b"blob", data), BLOB_MODE)
        for name, sub_files in subtrees.items():
            existing = entries.get(name)
            sub_root = existing[0] if existing and S_ISDIR(existing[1]) else None
            entries[name] = (self.write_paths(sub_root, sub_files), TREE_MODE)
        return self.write_tree(entries)

    def make_durable(self, also: Sequence[Path] = ()) -> None:
        """fsync every object written (and the files in also) and the directories naming them.

        The first fsync commits the file system's journal for all of them; the rest find
        little left to do, so a commit costs about one journal commit here, not one per file.
        """
        for path in [*self._written, *also]:
            fsync_path(path)
        for directory in sorted({path.parent for path in self._written}):
            fsync_path(directory)
        if self._new_dirs:
            fsync_path(self._objects_dir)
        self._written.clear()
        self._new_dirs = False
