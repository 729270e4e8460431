"""Comparisons in pages: pages bound blocks and characters, together they are the whole
comparison, and the worst pair of versions the limits admit is compared in bounded time and
memory by the child process, while the reproduction's document is refused before any parsing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repo_store.diff import diff_texts
from repo_store.diff.blocks import count_pieces, parse_blocks
from repo_store.diff.pages import TOO_MANY_BLOCKS, page_starts
from repo_store.diff.words import DOCUMENT_MYERS_BUDGET, WordBudget, diff_words
from server.config import DEFAULT_MAX_BLOCKS
from server.redline.pages import write_pages
from tests.support.diff_worst import REPRODUCTION, WORST, one_letter_words

MEMORY_BOUND = 512 * 1024 * 1024
SECONDS_BOUND = 15.0


def test_a_page_ends_at_its_block_count_or_its_characters() -> None:
    assert page_starts([1] * 10, 4, 100) == [0, 4, 8]
    assert page_starts([30, 30, 30, 30], 10, 70) == [0, 2]
    # A block longer than a page is a page of its own, never split, never dropped.
    assert page_starts([5, 500, 5], 10, 100) == [0, 1, 2]
    assert page_starts([], 10, 100) == [0]


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_the_pages_together_are_the_whole_comparison(tmp_path: Path, fmt: str) -> None:
    old = "".join(f"Статья {n}. Заголовок\n\n({n}) Текст статьи {n}.\n\n" for n in range(600))
    new = old.replace("Текст статьи 7.", "Новый текст статьи 7.")
    diff = diff_texts(old, new)
    meta = write_pages(diff, tmp_path, fmt=fmt, page_blocks=500, page_chars=10_000)
    assert meta["blocks"] == len(diff.blocks) == 1200
    assert meta["pages"] == len(list(tmp_path.glob(f"[0-9]*.{fmt}"))) > 1200 // 500
    assert meta["stats"] == diff.stats
    if fmt == "json":
        pages = [
            json.loads((tmp_path / f"{n}.json").read_text()) for n in range(1, 1 + meta["pages"])
        ]
        assert [b for page in pages for b in page] == diff.to_json()["blocks"]
        assert all(len(page) <= 500 for page in pages)
        assert [len(page) for page in pages[:-1]] == [
            b - a for a, b in zip(meta["starts"], meta["starts"][1:], strict=False)
        ]
    else:
        second = (tmp_path / "2.html").read_text()
        assert "Page 2 of" in second
        assert second.count('class="block ') < 500


def test_the_word_budget_is_shared_and_spent_once() -> None:
    old, new = one_letter_words(blocks=200, chars=40_000)
    budget = WordBudget(50_000)
    for a, b in zip(old.split("\n\n"), new.split("\n\n"), strict=True):
        diff_words(a, b, budget)
    assert budget.remaining <= 0
    spent = WordBudget(0)
    runs, _, _ = diff_words("a b c d", "a x c d", spent)
    assert "".join(r.text for r in runs if r.op != "delete") == "a x c d"
    assert DOCUMENT_MYERS_BUDGET >= 1_000_000


def test_the_reproduction_is_refused_by_counting_not_parsing() -> None:
    start = time.perf_counter()
    assert count_pieces(REPRODUCTION) > DEFAULT_MAX_BLOCKS
    assert time.perf_counter() - start < 2.0
    # In a fresh process: what deciding the refusal costs in memory, beyond the text itself.
    probe = (
        "import resource\n"
        "from repo_store.diff.blocks import count_pieces\n"
        "from tests.support.diff_worst import REPRODUCTION\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "count_pieces(REPRODUCTION)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True)
    assert int(done.stdout) * 1024 < 64 * 1024 * 1024


@pytest.mark.parametrize("name", sorted(WORST))
def test_pieces_bound_the_blocks(name: str) -> None:
    old, _ = WORST[name]()
    pieces = count_pieces(old)
    assert pieces <= len(parse_blocks(old)) <= 2 * pieces
    assert len(parse_blocks(old)) <= DEFAULT_MAX_BLOCKS


def run_child(
    directory: Path, old: str, new: str, fmt: str, max_blocks: int
) -> tuple[int, float, int]:
    """Run the comparison child; return its exit status, seconds and peak RSS in bytes."""
    old_bytes, new_bytes = old.encode(), new.encode()
    request = {
        "format": fmt,
        "page_blocks": 500,
        "page_chars": 200_000,
        "max_blocks": max_blocks,
        "memory_bytes": 1024 * 1024 * 1024,
        "cpu_seconds": 60,
        "old_bytes": len(old_bytes),
        "new_bytes": len(new_bytes),
        "title": "t",
        "old_label": "a",
        "new_label": "b",
        "lang": "en",
    }
    # A fresh interpreter that runs the child and reports the child's own peak RSS.
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'server.redline.pages', sys.argv[1]],"
        " stdin=sys.stdin)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", probe, str(directory)],
        input=json.dumps(request).encode() + b"\n" + old_bytes + new_bytes,
        capture_output=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    status, peak_kib = result.stdout.split()
    return int(status), seconds, int(peak_kib) * 1024


@pytest.mark.parametrize("fmt", ["json", "html"])
@pytest.mark.parametrize("name", sorted(WORST))
def test_the_worst_admitted_pair_is_compared_in_bounded_time_and_memory(
    tmp_path: Path, name: str, fmt: str
) -> None:
    old, new = WORST[name]()
    status, seconds, peak = run_child(tmp_path, old, new, fmt, DEFAULT_MAX_BLOCKS)
    assert status == 0
    assert seconds < SECONDS_BOUND
    assert peak < MEMORY_BOUND
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["pages"] >= meta["blocks"] // 500
    assert max(f.stat().st_size for f in tmp_path.glob(f"[0-9]*.{fmt}")) < 4 * 200_000 + 100_000


def test_the_child_refuses_versions_over_the_block_limit(tmp_path: Path) -> None:
    old, new = WORST["empty_paragraphs"]()
    status, _, _ = run_child(tmp_path, old, new, "json", 1_000)
    assert status == TOO_MANY_BLOCKS
    refused = json.loads((tmp_path / "refused.json").read_text())
    assert refused["limit"] == 1_000
    assert refused["blocks"] > 1_000
    assert not (tmp_path / "meta.json").exists()


def test_the_child_stays_within_its_memory_limit(tmp_path: Path) -> None:
    old, new = WORST["alternating_words"]()
    request = {
        "format": "json",
        "page_blocks": 500,
        "page_chars": 200_000,
        "max_blocks": DEFAULT_MAX_BLOCKS,
        "memory_bytes": 200 * 1024 * 1024,
        "cpu_seconds": 60,
        "old_bytes": len(old.encode()),
        "new_bytes": len(new.encode()),
        "title": "t",
        "old_label": "a",
        "new_label": "b",
        "lang": "en",
    }
    result = subprocess.run(
        [sys.executable, "-m", "server.redline.pages", str(tmp_path)],
        input=json.dumps(request).encode() + b"\n" + old.encode() + new.encode(),
        capture_output=True,
        check=False,
    )
    assert result.returncode != 0
    assert b"MemoryError" in result.stderr
    assert not (tmp_path / "meta.json").exists()
