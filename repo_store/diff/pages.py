"""A comparison cut into pages of blocks and written into a directory; in a child process, with
bounded memory and time, so that a costly comparison never grows its caller.

A directory holds ``meta.json`` (``{"pages", "blocks", "warnings", "stats", "starts"}``, where
``starts[k]`` is the index of page k+1's first block) and one file per page, written by the
caller's page renderer: ``1.json`` (a JSON array of blocks, the package docstring's shape, the
default) or, say, ``1.html`` (server.redline.pages: a redline page of those blocks).
A page ends after ``page_blocks`` blocks, or earlier once its text reaches ``page_chars``
characters, so that no page, and no response made of one, is larger than that (a single block
longer than the bound is a page of its own).

As a child process (``main``, run by the module that knows the page formats): standard input
is one line of JSON (``format``, ``page_blocks``, ``page_chars``, ``max_blocks``,
``memory_bytes``, ``cpu_seconds``, ``old_bytes``, ``new_bytes``, and what the renderer reads),
then the old and the new text in UTF-8. Exit 0: the pages are written; exit
``TOO_MANY_BLOCKS``: a version has more blocks than ``max_blocks``, and ``refused.json`` says
how many; any other status: nothing usable was written.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from repo_store.diff.textdiff import BlockDiff, TextDiff, diff_texts

TOO_MANY_BLOCKS = 3

# (page, pages, first block, end block, blocks): where a page stands in the whole comparison.
PagePart = tuple[int, int, int, int, int]
# Turns one page of the comparison (its blocks, the whole's warnings and counts) into text.
PageRenderer = Callable[[TextDiff, PagePart], str]


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


def json_page(diff: TextDiff, part: PagePart) -> str:
    """A page as the JSON array of its blocks."""
    return json.dumps(diff.to_json()["blocks"], ensure_ascii=False)


def write_pages(
    diff: TextDiff,
    directory: Path,
    *,
    page_blocks: int,
    page_chars: int,
    render: PageRenderer = json_page,
    suffix: str = "json",
) -> dict[str, Any]:
    """Write the comparison's pages, each as render makes it, and meta.json into directory;
    return the meta."""
    blocks = diff.blocks
    starts = page_starts([_entry_size(e) for e in blocks], page_blocks, page_chars)
    bounds = [*starts, len(blocks)]
    whole = diff.to_json_without_blocks()
    for number, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False), start=1):
        page = replace(diff, blocks=blocks[start:end])
        body = render(page, (number, len(starts), start, end, len(blocks)))
        (directory / f"{number}.{suffix}").write_text(body, encoding="utf-8")
    meta = {"pages": len(starts), "blocks": len(blocks), "starts": starts, **whole}
    (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return meta


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    """Bound this process: past the memory it gets MemoryError, past the CPU time SIGXCPU."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main(argv: Sequence[str], renderer: Callable[[Mapping[str, Any]], PageRenderer]) -> int:
    """Compare the versions on standard input into the directory argv[1], the pages rendered as
    renderer(request) says and named by the request's ``format``; return the exit status."""
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
        page_blocks=int(request["page_blocks"]),
        page_chars=int(request["page_chars"]),
        render=renderer(request),
        suffix=request["format"],
    )
    return 0
