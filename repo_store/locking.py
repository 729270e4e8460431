"""A per-repository write lock that holds across threads and processes (flock on a file)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def repository_lock(repo_path: Path) -> Iterator[None]:
    """Hold the repository's exclusive write lock for the duration of the block.

    flock locks belong to an open file description, so each call opens its own descriptor:
    two threads of one process exclude each other just as two processes do, and the kernel
    releases the lock if the holder dies.
    """
    fd = os.open(repo_path / "peerlex.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
