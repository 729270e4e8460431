"""Per-document write locks that hold across threads and processes (flock on a file)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from repo_store.names import check_slug

LOCKS = "peerlex-locks"


@contextmanager
def document_lock(repo_path: Path, slug: str) -> Iterator[None]:
    """Hold the document's exclusive write lock for the duration of the block.

    Each document has its own history, so writers of different documents never wait for each
    other. flock locks belong to an open file description, so each call opens its own
    descriptor: two threads of one process exclude each other just as two processes do, and
    the kernel releases the lock if the holder dies.
    """
    path = repo_path / LOCKS / f"{check_slug(slug)}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
