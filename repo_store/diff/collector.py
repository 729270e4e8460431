"""Pause Python's cycle collector while a comparison builds its many small, acyclic objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collector() -> Iterator[None]:
    """Keep the cycle collector from running inside the block.

    A comparison allocates several objects per block (blocks, pairs, runs, JSON dicts) and
    none of them form reference cycles, so every collection during it only re-traverses
    objects that will survive anyway; on a 10 MB law that made the time grow faster than the
    size.  Reference counting still frees everything as usual.  The collector is switched back
    on only if it was on when the block started, so nested or concurrent uses never leave it
    off for longer than the longest of them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
