"""What one document and one request may cost: blocks per document, and how many expensive
requests (large comparisons and pages) one worker runs at once (docs/deployment.md, "Limits").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from repo_store.diff.blocks import count_pieces, parse_blocks
from server.config import Config
from server.services.context import services
from server.services.errors import Busy, TooLarge

# Seconds a client is asked to wait before it tries a refused expensive request again.
RETRY_AFTER = 5


class WorkGate:
    """A fixed number of slots for expensive work in this process; no queue behind them.

    A request that finds every slot taken is refused at once (Busy): waiting would hold one of
    the worker's few threads, and the cheap requests (the health check among them) would queue
    behind it in the kernel.
    """

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._free = threading.BoundedSemaphore(self.slots)

    @contextmanager
    def expensive(self, what: str) -> Iterator[None]:
        """Hold one slot for the block's duration, or raise Busy when none is free."""
        if not self._free.acquire(blocking=False):
            raise busy(f"the server is busy with other large {what}; try again in {RETRY_AFTER} s")
        try:
            yield
        finally:
            self._free.release()


def busy(detail: str) -> Busy:
    """Refuse for now: the caller may try again in RETRY_AFTER seconds."""
    return Busy(detail, RETRY_AFTER)


def make_work_gate(config: Config) -> WorkGate:
    return WorkGate(config.expensive_per_worker)


def work_gate() -> WorkGate:
    return services().work_gate


def is_expensive(*texts: str) -> bool:
    """Whether work on these texts together is large enough to need a slot: by characters,
    or by lines, since a block costs more than the characters it is made of."""
    bound = services().config.expensive_chars
    return sum(map(len, texts)) > bound or sum(t.count("\n") for t in texts) > bound // 20


def count_blocks(text: str, limit: int) -> int:
    """The number of blocks of a text, or a number above limit as soon as it is sure to be."""
    pieces = count_pieces(text)
    if pieces > limit or 2 * pieces <= limit:
        return pieces
    return len(parse_blocks(text))


def check_document_blocks(content: str) -> None:
    """Refuse (413) a text with more blocks than a document may have."""
    limit = services().config.max_document_blocks
    count = count_blocks(content, limit)
    if count > limit:
        raise TooLarge(
            f"the document has at least {count:,} blocks "
            f"(paragraphs, provisions, items); a document may have at most {limit:,}",
            "too-many-blocks",
            limit=limit,
        )
