"""A comparison written as pages of blocks into a directory; run alone, it does so in a child
process with bounded memory and time, so that a costly comparison never grows its caller.

A directory holds ``meta.json`` (``{"pages", "blocks", "warnings", "stats", "starts"}``, where
``starts[k]`` is the index of page k+1's first block) and one file per page: ``1.json`` (a JSON
array of blocks, the package docstring's shape) or ``1.html`` (a redline page of those blocks).
A page ends after ``page_blocks`` blocks, or earlier once its text reaches ``page_chars``
characters, so that no page, and no response made of one, is larger than that (a single block
longer than the bound is a page of its own).

As a child process (``python -m repo_store.diff.pages DIRECTORY``): standard input is one line
of JSON (``format``, ``page_blocks``, ``page_chars``, ``max_blocks``, ``memory_bytes``,
``cpu_seconds``, ``old_bytes``, ``new_bytes``, ``title``, ``old_label``, ``new_label``,
``lang``), then the old and the new text in UTF-8. Exit 0: the pages are written; exit
``TOO_MANY_BLOCKS``: a version has more blocks than ``max_blocks``, and ``refused.json`` says
how many; any other status: nothing usable was written.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from repo_store.diff.redline import render_html
from repo_store.diff.textdiff import BlockDiff, TextDiff, diff_texts

TOO_MANY_BLOCKS = 3
FORMATS = ("json", "html")


def page_starts(sizes: Sequence[int], page_blocks: int, page_chars: int) -> list[int]:
    """Where each page begins, for items of these sizes: at most page_blocks items and, past the
    first item of a page, at most page_chars characters to a page."""
    starts = [0]
    count = chars = 0
    for index, size in enumerate(sizes):
        if count and (count >= page_blocks or chars + size > page_chars):
            starts.append(index)
            count = chars = 0
        count += 1
        chars += size
    return starts


def _entry_size(entry: BlockDiff) -> int:
    return len(entry.shown.text) + sum(len(run.text) for run in entry.tokens)


def write_pages(
    diff: TextDiff,
    directory: Path,
    *,
    fmt: str,
    page_blocks: int,
    page_chars: int,
    title: str = "",
    old_label: str = "",
    new_label: str = "",
    lang: str = "und",
) -> dict[str, Any]:
    """Write the comparison's pages and meta.json into directory; return the meta."""
    if fmt not in FORMATS:
        raise ValueError(f"no pages in format {fmt!r}")
    blocks = diff.blocks
    starts = page_starts([_entry_size(e) for e in blocks], page_blocks, page_chars)
    bounds = [*starts, len(blocks)]
    whole = diff.to_json_without_blocks()
    for number, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False), start=1):
        part = replace(diff, blocks=blocks[start:end])
        if fmt == "json":
            body = json.dumps(part.to_json()["blocks"], ensure_ascii=False)
        else:
            body = render_html(
                part,
                title=title,
                old_label=old_label,
                new_label=new_label,
                lang=lang,
                part=(number, len(starts), start, end, len(blocks)),
            )
        (directory / f"{number}.{fmt}").write_text(body, encoding="utf-8")
    meta = {"pages": len(starts), "blocks": len(blocks), "starts": starts, **whole}
    (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return meta


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    """Bound this process: past the memory it gets MemoryError, past the CPU time SIGXCPU."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main(argv: Sequence[str]) -> int:
    directory = Path(argv[1])
    stdin = sys.stdin.buffer
    request = json.loads(stdin.readline())
    _limit_self(int(request["memory_bytes"]), int(request["cpu_seconds"]))
    old = stdin.read(int(request["old_bytes"])).decode("utf-8")
    new = stdin.read(int(request["new_bytes"])).decode("utf-8")
    max_blocks = int(request["max_blocks"])
    diff = diff_texts(old, new)
    # The caller let through only versions of at most twice the limit (count_pieces), so this
    # check comes after a comparison of bounded cost and spares a second parse.
    for side in ("old", "new"):
        count = diff.stats[f"{side}_blocks"]
        if count > max_blocks:
            refused = {"side": side, "blocks": count, "limit": max_blocks}
            (directory / "refused.json").write_text(json.dumps(refused), encoding="utf-8")
            return TOO_MANY_BLOCKS
    write_pages(
        diff,
        directory,
        fmt=request["format"],
        page_blocks=int(request["page_blocks"]),
        page_chars=int(request["page_chars"]),
        title=request["title"],
        old_label=request["old_label"],
        new_label=request["new_label"],
        lang=request["lang"],
    )
    return 0


if __name__ == "__main__":
    # Flush and leave without tearing down a large heap object by object.
    status = main(sys.argv)
    sys.stdout.flush()
    os._exit(status)
