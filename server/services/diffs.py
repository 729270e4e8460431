"""The diff between two versions a user may read: structural JSON, git's unified diff, redline.

Versions never change, so neither does a comparison of two of them: each is computed once, in
pages, into a bounded cache on disk that every worker shares (docs/deployment.md, "Limits"),
and a request reads one page of it. A large comparison is computed in a child process with
bounded memory and CPU time, holding one of the worker's few slots for expensive work.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import repo_store
from repo_store.diff import diff_texts
from repo_store.diff.blocks import count_pieces
from server.config import Config
from server.models import User
from server.redline.pages import TOO_MANY_BLOCKS, write_pages
from server.services.context import services
from server.services.documents import previous_readable, readable_version
from server.services.errors import Invalid, NotFound
from server.services.limits import busy, is_expensive, work_gate

log = logging.getLogger(__name__)

# Where `python -m server.redline.pages` is found, installed or not.
_CODE_ROOT = str(Path(repo_store.__file__).resolve().parents[1])


class DiffCache:
    """Comparisons on disk, one directory of pages per (party, slug, from, to, format).

    Bounded in bytes: past the bound, the entries used longest ago are removed. Each worker
    looks at the whole cache only after it has added a sixteenth of the bound, so the cache
    may overshoot by that much per worker between two looks. An entry is
    written into a temporary directory and renamed into place whole, so a reader in any worker
    sees all of it or none; two workers that compute the same entry keep the first.
    """

    def __init__(self, root: Path, max_bytes: int, page_blocks: int, page_chars: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.page_blocks = page_blocks
        self.page_chars = page_chars
        self.computed = 0  # comparisons this process computed, hits excluded
        self._added = 0  # bytes this process added since it last looked at the whole cache
        self._lock = threading.Lock()

    def entry(self, party: str, slug: str, old: str | None, new: str, fmt: str) -> Path:
        # Every part is validated (party code, slug, commit ids): none can leave the root.
        paging = f"{self.page_blocks}-{self.page_chars}"
        return self.root / "entries" / party / slug / f"{old or 'none'}..{new}.{fmt}.{paging}"

    def meta(self, entry: Path) -> dict[str, Any] | None:
        """The entry's meta.json, or None when it is not cached; a hit counts as a use."""
        try:
            meta: dict[str, Any] = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            os.utime(entry)
        except FileNotFoundError:
            return None
        return meta

    def fill(self, entry: Path, write: Callable[[Path], None]) -> None:
        """Make an entry: write(directory) fills a temporary directory that becomes it."""
        work = self.root / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=work))
        try:
            write(scratch)
            size = sum(f.stat().st_size for f in scratch.iterdir())
            entry.parent.mkdir(parents=True, exist_ok=True)
            try:
                scratch.rename(entry)
            except OSError:
                if not (entry / "meta.json").exists():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        with self._lock:
            self.computed += 1
            self._added += size
            look = self._added >= self.max_bytes // 16
            if look:
                self._added = 0
        if look:
            self._evict()

    def _evict(self) -> None:
        entries = []
        total = 0
        for path in self.root.glob("entries/*/*/*"):
            try:
                size = sum(f.stat().st_size for f in path.iterdir())
                entries.append((path.stat().st_mtime, size, path))
            except OSError:
                continue  # removed by another worker meanwhile
            total += size
        if total <= self.max_bytes:
            return
        for _, size, path in sorted(entries):
            shutil.rmtree(path, ignore_errors=True)
            total -= size
            if total <= self.max_bytes * 0.9:
                return


def make_diff_cache(config: Config) -> DiffCache:
    return DiffCache(
        config.diff_cache_dir, config.diff_cache_bytes, config.page_blocks, config.page_chars
    )


@dataclass(frozen=True)
class DiffPage:
    """One page of a comparison: its blocks (JSON) or its text (html, unified)."""

    party: str
    slug: str
    old: str | None
    new: str
    fmt: str
    page: int
    pages: int
    first_block: int
    blocks_total: int
    meta: dict[str, Any]
    body: str

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The page's blocks (format json), as docs/formats.md describes them."""
        found: list[dict[str, Any]] = json.loads(self.body)
        return found

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Warnings about the whole comparison."""
        found: list[dict[str, Any]] = self.meta.get("warnings", [])
        return found

    @property
    def stats(self) -> dict[str, Any]:
        """Counts of the whole comparison."""
        found: dict[str, Any] = self.meta.get("stats", {})
        return found


def diff_page(
    user: User, code: str, slug: str, old: str | None, new: str | None, fmt: str, page: int = 1
) -> DiffPage:
    """One page of the comparison of two readable versions; `new` defaults to the newest,
    `old` to the one before."""
    new_version = readable_version(user, code, slug, new)
    old_version = (
        readable_version(user, code, slug, old)
        if old is not None
        else previous_readable(user, code, slug, new_version)
    )
    cache = services().diff_cache
    entry = cache.entry(code, slug, old_version, new_version, fmt)
    meta = cache.meta(entry)
    if meta is None:
        cache.fill(
            entry, lambda scratch: _compute(scratch, code, slug, old_version, new_version, fmt)
        )
        meta = cache.meta(entry)
        if meta is None:  # evicted at once: the cache is smaller than one comparison
            raise busy("the comparison was evicted from the diff cache at once; ask again")
    pages = int(meta["pages"])
    if not 1 <= page <= pages:
        raise NotFound(f"no page {page}: the comparison has {pages}", "no-such-page")
    try:
        body = (entry / f"{page}.{_suffix(fmt)}").read_text(encoding="utf-8")
    except FileNotFoundError as exc:  # evicted by another worker between two reads
        raise busy("the comparison was evicted from the diff cache meanwhile; ask again") from exc
    starts = meta.get("starts", [0])
    return DiffPage(
        code,
        slug,
        old_version,
        new_version,
        fmt,
        page,
        pages,
        starts[page - 1],
        int(meta.get("blocks", 0)),
        meta,
        body,
    )


def _suffix(fmt: str) -> str:
    return "diff" if fmt == "unified" else fmt


def _compute(
    scratch: Path, code: str, slug: str, old_version: str | None, new_version: str, fmt: str
) -> None:
    """Write the comparison's pages into scratch: small ones here, large ones in a child."""
    store = services().store
    config = services().config
    new_doc = store.read_document(code, slug, new_version)
    old_text = store.read_document(code, slug, old_version).content if old_version else ""
    expensive = is_expensive(old_text, new_doc.content)
    if fmt == "unified":
        # git's own diff, in its own process; large ones still take a slot.
        with work_gate().expensive("comparisons") if expensive else nullcontext():
            text = store.unified_diff(code, slug, old_version, new_version)
        (scratch / "1.diff").write_text(text, encoding="utf-8")
        (scratch / "meta.json").write_text(json.dumps({"pages": 1, "blocks": 0}))
        return
    limit = config.max_document_blocks
    for text in (old_text, new_doc.content):
        # A version saved before the limit existed, or under a higher one, is refused before
        # any parsing when it surely has too many blocks (each piece is one block or two);
        # the exact count comes with the comparison.
        if count_pieces(text) > limit:
            raise _too_many_blocks(limit)
    labels = {
        "title": str(new_doc.metadata.get("title") or slug),
        "old_label": old_version[:12] if old_version else "(none)",
        "new_label": new_version[:12],
        "lang": str(new_doc.metadata.get("language") or "und"),
    }
    if not expensive:
        diff = diff_texts(old_text, new_doc.content)
        if max(diff.stats["old_blocks"], diff.stats["new_blocks"]) > limit:
            raise _too_many_blocks(limit)
        write_pages(
            diff,
            scratch,
            fmt=fmt,
            page_blocks=config.page_blocks,
            page_chars=config.page_chars,
            **labels,
        )
        return
    with work_gate().expensive("comparisons"):
        _compute_in_child(scratch, old_text, new_doc.content, fmt, labels)


def _too_many_blocks(limit: int) -> Invalid:
    return Invalid(
        f"a version has more than {limit:,} blocks, the most a document may have; "
        "it cannot be compared",
        "too-many-blocks",
        limit=limit,
    )


def _compute_in_child(scratch: Path, old: str, new: str, fmt: str, labels: dict[str, str]) -> None:
    config = services().config
    old_bytes, new_bytes = old.encode(), new.encode()
    request = {
        "format": fmt,
        "page_blocks": config.page_blocks,
        "page_chars": config.page_chars,
        "max_blocks": config.max_document_blocks,
        "memory_bytes": config.diff_memory_bytes,
        "cpu_seconds": config.diff_cpu_seconds,
        "old_bytes": len(old_bytes),
        "new_bytes": len(new_bytes),
        **labels,
    }
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_CODE_ROOT, env.get("PYTHONPATH")]))
    try:
        # Our own interpreter and module, a fixed argument list; the texts go through stdin.
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "server.redline.pages", str(scratch)],
            input=json.dumps(request).encode() + b"\n" + old_bytes + new_bytes,
            capture_output=True,
            timeout=2 * config.diff_cpu_seconds + 10,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _too_costly() from exc
    if result.returncode == TOO_MANY_BLOCKS:
        raise _too_many_blocks(config.max_document_blocks)
    if result.returncode != 0:
        log.warning(
            "comparison child exited with %s: %s",
            result.returncode,
            result.stderr[-500:].decode("utf-8", "replace"),
        )
        raise _too_costly()


def _too_costly() -> Invalid:
    return Invalid(
        "comparing these versions needs more memory or time than one comparison may take",
        "diff-too-costly",
    )
