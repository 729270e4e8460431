"""The outcome of one step of offline bundle verification, and the line that reports it."""

from __future__ import annotations

from dataclasses import dataclass

from clients.terminal import one_line


@dataclass(frozen=True)
class Check:
    """One verification step and its outcome."""

    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        """The line printed for this check; nothing from the bundle can break out of it."""
        text = f"{'ok  ' if self.ok else 'FAIL'} {self.name}" + (
            f": {self.detail}" if self.detail else ""
        )
        return one_line(text)
