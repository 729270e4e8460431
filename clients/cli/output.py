"""How `peerlex` prints: server text made inert, aligned tables, and the one `--json` output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click

from clients.terminal import json_text, one_line, printable


@dataclass(frozen=True)
class Reply:
    """What a command answers: its data, printed as JSON with --json, or for a person."""

    data: Any
    show: Callable[[], None]


def json_reply(command: Callable[..., Reply]) -> Callable[..., None]:
    """Give a command --json: its data as JSON then, else the words of its Reply."""

    @click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
    @functools.wraps(command)
    def answer(*args: Any, as_json: bool, **kwargs: Any) -> None:
        reply = command(*args, **kwargs)
        if as_json:
            echo_json(reply.data)
        else:
            reply.show()

    return answer


def echo_json(data: Any) -> None:
    """Print data as JSON: the same data, with nothing in it that acts on a terminal."""
    click.echo(json_text(json.dumps(data, ensure_ascii=False, indent=2)))


def write_text(text: str) -> None:
    """Print text exactly as it is when it goes to a file or pipe; made safe for a terminal."""
    out = sys.stdout
    if out.isatty():
        text = printable(text)
    out.write(text if text.endswith("\n") or not text else text + "\n")
    out.flush()


def say(line: str) -> None:
    """Print one line built from server values: any control or bidi character in it escaped."""
    click.echo(one_line(line))


def short(sha: str | None) -> str:
    return (sha or "")[:12]


def table(rows: Sequence[Sequence[str]]) -> None:
    """Print rows in aligned columns (the last one left ragged)."""
    if not rows:
        return
    rows = [[one_line(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())
