"""Progress of uploads and downloads on stderr, shown only when a transfer takes a while."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

PROGRESS_DELAY = 1.0  # seconds a transfer runs before its progress bar appears


class TransferProgress:
    """A progress bar on stderr that appears only once a transfer has run for about a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.done = 0
        self.bar: Any = None

    def __call__(self, count: int, total: int | None) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
            return
        if time.monotonic() - self.started < PROGRESS_DELAY or not sys.stderr.isatty():
            return
        self.bar = click.progressbar(length=total or self.done, label=self.label, file=sys.stderr)
        self.bar.__enter__()
        self.bar.update(self.done)

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc_info)
