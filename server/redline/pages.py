"""A comparison written as pages in the API's formats, JSON blocks or redline HTML; run alone
(``python -m server.redline.pages DIRECTORY``), it does so in a bounded child process.

repo_store.diff.pages computes the comparison and cuts it into pages; this module says how a
page reads in each format. The child's request is the one repo_store.diff.pages describes,
with ``format`` one of FORMATS and the redline's ``title``, ``old_label``, ``new_label`` and
``lang``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from repo_store.diff import pages
from repo_store.diff.pages import TOO_MANY_BLOCKS, PagePart, PageRenderer, json_page
from repo_store.diff.textdiff import TextDiff
from server.redline.render import render_html

__all__ = ["FORMATS", "TOO_MANY_BLOCKS", "page_renderer", "write_pages"]

FORMATS = ("json", "html")


def page_renderer(
    fmt: str, *, title: str = "", old_label: str = "", new_label: str = "", lang: str = "und"
) -> PageRenderer:
    """How a page reads in format fmt: its blocks as JSON, or a redline page with these labels."""
    if fmt == "json":
        return json_page
    if fmt == "html":

        def redline_page(diff: TextDiff, part: PagePart) -> str:
            return render_html(
                diff, title=title, old_label=old_label, new_label=new_label, lang=lang, part=part
            )

        return redline_page
    raise ValueError(f"no pages in format {fmt!r}")


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
    """Write the comparison's pages in format fmt and meta.json into directory; return the meta."""
    render = page_renderer(fmt, title=title, old_label=old_label, new_label=new_label, lang=lang)
    return pages.write_pages(
        diff, directory, suffix=fmt, render=render, page_blocks=page_blocks, page_chars=page_chars
    )


def _requested_renderer(request: Mapping[str, Any]) -> PageRenderer:
    return page_renderer(
        request["format"],
        title=request["title"],
        old_label=request["old_label"],
        new_label=request["new_label"],
        lang=request["lang"],
    )


if __name__ == "__main__":
    # Flush and leave without tearing down a large heap object by object.
    status = pages.main(sys.argv, _requested_renderer)
    sys.stdout.flush()
    os._exit(status)
