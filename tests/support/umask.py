"""The process umask set for a while and then put back, for tests of file permissions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def umask_set_to(mask: int) -> Iterator[None]:
    """Run the block under umask mask; the umask before it comes back afterwards."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)
