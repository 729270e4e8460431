"""A repository's document refs on disk: read loose or packed, moved by compare-and-swap
through git's own lock file, durably; and the check that refuses the first layout.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from pathlib import Path

from repo_store.errors import LegacyLayout, StaleVersion
from repo_store.names import SLUG, check_slug
from repo_store.objects import ObjectWriter, fsync_path, start_writeback

DOCUMENT_REFS = "refs/documents/"
# The first layout's single branch with every document of a party in one tree.
LEGACY_REF = "refs/heads/main"


def document_ref(slug: str) -> str:
    """The ref whose history is the document's: its versions and attachment commits."""
    return DOCUMENT_REFS + check_slug(slug)


def document_slugs(path: Path) -> list[str]:
    """The slug of every document ref of the repository at path, loose or packed, sorted."""
    names: set[str] = set()
    with contextlib.suppress(FileNotFoundError):
        names.update(os.listdir(path / DOCUMENT_REFS))
    names.update(
        ref.removeprefix(DOCUMENT_REFS)
        for ref in packed_refs(path)
        if ref.startswith(DOCUMENT_REFS)
    )
    # A ref file that is not a slug (a git lock file, say) is not a document.
    return sorted(name for name in names if SLUG.fullmatch(name))


def in_first_layout(path: Path) -> bool:
    """Whether the repository at path keeps every document on one branch (the first layout)."""
    return read_ref(path, LEGACY_REF) is not None


def packed_refs(path: Path) -> dict[str, str]:
    """ref -> commit from packed-refs (what `git pack-refs` or `git gc` leaves)."""
    try:
        text = (path / "packed-refs").read_text()
    except FileNotFoundError:
        return {}
    refs = {}
    for line in text.splitlines():
        if line.startswith(("#", "^")):
            continue
        sha, _, name = line.partition(" ")
        refs[name] = sha
    return refs


def read_ref(path: Path, ref: str) -> str | None:
    """The commit a ref points at: its loose file, else packed-refs; None if there is none."""
    try:
        return _read_small_file(f"{path}/{ref}").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return packed_refs(path).get(ref)


def _read_small_file(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 4096).decode()
    finally:
        os.close(fd)


class BackgroundCloser:
    """Closes file descriptors on one daemon thread per process.

    Closing the last reference to a deleted file frees its blocks; where the file system
    discards freed blocks online (ext4 mounted with -o discard) that waits for the device,
    over a millisecond per file.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: queue.Queue[int] | None = None
        os.register_at_fork(after_in_child=self._forget_thread)

    def _forget_thread(self) -> None:
        # A forked child has the queue but not the thread that drains it: start afresh.
        self._lock = threading.Lock()
        self._pending = None

    def close(self, fd: int) -> None:
        with self._lock:
            if self._pending is None:
                # Bounded, so a burst of writes waits here rather than running out of files.
                self._pending = queue.Queue(maxsize=64)
                threading.Thread(
                    target=self._drain, args=(self._pending,), name="peerlex-close", daemon=True
                ).start()
            pending = self._pending
        pending.put(fd)

    @staticmethod
    def _drain(pending: queue.Queue[int]) -> None:
        while True:
            fd = pending.get()
            with contextlib.suppress(OSError):
                os.close(fd)


_closer = BackgroundCloser()


def _open_if_exists(path: str) -> int | None:
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None


def stage_ref(path: Path, ref_name: str, new: str, old: str | None) -> tuple[str, int]:
    """Check that the ref is still old and write new to its lock file.

    Returns the lock file's path and its open descriptor. The caller holds the document
    lock, fsyncs the lock file together with the new objects, closes it and then calls
    publish_ref.
    """
    ref = f"{path}/{ref_name}"
    if read_ref(path, ref_name) != old:
        raise StaleVersion(read_ref(path, ref_name))
    # git's own lock-file name, so a git process running by hand sees the ref as busy.
    lock = ref + ".lock"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        fd = os.open(lock, flags, 0o644)
    except FileNotFoundError:  # the first document of a repository: no refs/documents yet
        os.makedirs(os.path.dirname(ref), exist_ok=True)
        fsync_path(os.path.dirname(os.path.dirname(ref)))
        fd = os.open(lock, flags, 0o644)
    try:
        os.write(fd, f"{new}\n".encode())
        start_writeback(fd)
    except BaseException:
        os.close(fd)
        raise
    return lock, fd


def publish_ref(lock: str) -> None:
    """Atomically move the durable lock file over the ref and make the rename durable."""
    ref = lock.removesuffix(".lock")
    # Held open, the replaced ref file is freed when the background closer closes it, not
    # inside the rename (see BackgroundCloser).
    replaced = _open_if_exists(ref)
    try:
        os.replace(lock, ref)
        fsync_path(os.path.dirname(ref))
    finally:
        if replaced is not None:
            _closer.close(replaced)


def legacy_repositories(root: Path) -> list[str]:
    """The parties whose repository is in the first layout (one branch for everything)."""
    if not root.is_dir():
        return []
    return sorted(
        path.name.removesuffix(".git") for path in root.glob("*.git") if in_first_layout(path)
    )


def check_layout(root: Path) -> None:
    """Raise LegacyLayout, naming the parties, if any repository is in the first layout."""
    legacy = legacy_repositories(root)
    if legacy:
        raise LegacyLayout(
            f"the repositories of {', '.join(legacy)} keep every document on one branch (the "
            "first layout); this version keeps one history per document and does not read "
            "them: start from a new data directory"
        )


def publish_commit(path: Path, ref: str, writer: ObjectWriter, raw: bytes, head: str | None) -> str:
    """Write a commit object with the objects before it and move ref from head to it."""
    sha = writer.write(b"commit", raw).hex()
    # Objects and the new ref value are durable before the ref moves: a crash at any point
    # leaves either the old head or the new one, never a dangling ref.
    lock, lock_fd = stage_ref(path, ref, sha, head)
    try:
        writer.make_durable(also=[lock_fd])
    finally:
        os.close(lock_fd)
    publish_ref(lock)
    return sha
