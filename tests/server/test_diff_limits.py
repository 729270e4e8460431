"""What one document may cost: the block limit at upload, diffs in pages, computed once into a
cache shared by workers, and a per-worker cap on expensive comparisons (503, Retry-After)."""

from __future__ import annotations

import subprocess
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from flask import Flask

from repo_store.commits import Identity
from server.app import create_app
from server.config import DEFAULT_MAX_BLOCKS, Config
from server.services.context import services
from server.services.limits import RETRY_AFTER, WorkGate
from tests.support.api import Api, DocFactory
from tests.support.diff_worst import REPRODUCTION

DOC = "/api/v1/parties/BLR/documents/export-law"
DIFF = DOC + "/diff"


def refs(app: Flask) -> str:
    repos: Path = app.extensions["peerlex.config"].repos_dir
    return subprocess.run(
        ["git", f"--git-dir={repos / 'BLR.git'}", "for-each-ref"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout


def law(articles: int, changed: int | None = None) -> str:
    """A law of 2 × articles blocks; article `changed` reads differently."""
    return "".join(
        f"Статья {n}. Заголовок\n\n"
        f"Текст статьи {n}{' в новой редакции' if n == changed else ''}.\n\n"
        for n in range(1, articles + 1)
    )


def push(put_doc: DocFactory, *texts: str, slug: str = "export-law") -> list[str]:
    versions: list[str] = []
    for text in texts:
        answer = put_doc(text, base=versions[-1] if versions else None, slug=slug)
        assert answer.status_code in (200, 201), answer.json
        versions.append(answer.json["version"]["commit"])
    return versions


def test_an_upload_over_the_block_limit_is_refused_and_nothing_is_written(
    app: Flask, world: dict[str, Api], put_doc: DocFactory
) -> None:
    before = refs(app)
    start = time.perf_counter()
    answer = put_doc(REPRODUCTION)
    assert time.perf_counter() - start < 10
    assert answer.status_code == 413
    assert answer.mimetype == "application/problem+json"
    assert answer.json["type"].endswith("/too-many-blocks")
    assert answer.json["limit"] == DEFAULT_MAX_BLOCKS
    assert f"at most {DEFAULT_MAX_BLOCKS:,}" in answer.json["detail"]
    assert refs(app) == before
    assert world["own"].get(DOC).status_code == 404
    # An update over the limit leaves the document at its head.
    (v1,) = push(put_doc, law(3))
    answer = put_doc("x\n\n" * (DEFAULT_MAX_BLOCKS + 1), base=v1)
    assert answer.status_code == 413
    assert world["own"].get(DOC).json["version"]["commit"] == v1


def test_a_document_of_exactly_the_most_blocks_is_accepted(put_doc: DocFactory) -> None:
    assert put_doc("x\n\n" * DEFAULT_MAX_BLOCKS).status_code == 201


def test_the_json_diff_comes_in_pages(world: dict[str, Api], put_doc: DocFactory) -> None:
    v1, v2 = push(put_doc, law(600), law(600, changed=599))
    first = world["own"].get(DIFF, query_string={"from": v1, "to": v2})
    assert first.status_code == 200
    body = first.json
    assert (body["page"], body["pages"], body["first_block"]) == (1, 3, 0)
    assert body["blocks_total"] == 1200
    assert len(body["blocks"]) == 500
    assert body["stats"]["replace"] == 1  # counts are of the whole comparison
    assert 'rel="next"' in first.headers["Link"]
    assert 'rel="prev"' not in first.headers["Link"]
    blocks = list(body["blocks"])
    for page in (2, 3):
        answer = world["own"].get(DIFF, query_string={"from": v1, "to": v2, "page": page})
        assert answer.json["page"] == page
        assert answer.json["first_block"] == len(blocks)
        assert 'rel="prev"' in answer.headers["Link"]
        blocks += answer.json["blocks"]
    assert "rel" not in answer.headers.get("Link", "").replace('rel="prev"', "")
    assert len(blocks) == 1200
    assert [b["op"] for b in blocks].count("replace") == 1
    assert blocks[1197]["new_id"] == "art_599__p1"
    beyond = world["own"].get(DIFF, query_string={"from": v1, "to": v2, "page": 4})
    assert beyond.status_code == 404
    assert beyond.mimetype == "application/problem+json"
    assert world["own"].get(DIFF, query_string={"page": 0}).status_code == 422


def test_the_redline_comes_in_pages_and_unified_whole(
    world: dict[str, Api], put_doc: DocFactory
) -> None:
    v1, v2 = push(put_doc, law(600), law(600, changed=1))
    query = {"from": v1, "to": v2, "format": "html"}
    first = world["own"].get(DIFF, query_string=query)
    assert first.status_code == 200
    assert "Page 1 of 3" in first.text
    assert first.text.count('class="block ') == 500
    last = world["own"].get(DIFF, query_string={**query, "page": 3})
    assert last.text.count('class="block ') == 200
    unified = world["own"].get(DIFF, query_string={**query, "format": "unified"})
    assert "в новой редакции" in unified.text
    assert "Link" not in unified.headers


def test_the_openapi_document_names_the_page_parameter(world: dict[str, Api]) -> None:
    spec = world["anonymous"].get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/parties/{party}/documents/{slug}/diff"]["get"]
    assert "page" in {p["name"] for p in operation["parameters"]}
    assert "blocks_total" in spec["components"]["schemas"]["DiffPage"]["properties"]


def test_a_second_identical_request_is_served_from_the_cache(
    app: Flask, config: Config, world: dict[str, Api], put_doc: DocFactory
) -> None:
    v1, v2 = push(put_doc, law(600), law(600, changed=3))
    cache = app.extensions["peerlex.diff_cache"]
    query = {"from": v1, "to": v2}
    first = world["own"].get(DIFF, query_string=query)
    assert cache.computed == 1
    again = world["own"].get(DIFF, query_string=query)
    other_page = world["own"].get(DIFF, query_string={**query, "page": 2})
    assert cache.computed == 1
    assert again.json == first.json
    assert other_page.json["page"] == 2
    world["own"].get(DIFF, query_string={**query, "format": "html"})
    assert cache.computed == 2  # another format is another entry
    # Another worker (another app on the same data) finds the comparison computed.
    second_worker = create_app(config)
    try:
        client = second_worker.test_client()
        headers = world["own"].headers
        answer = client.get(DIFF, query_string=query, headers=headers)
        assert answer.json == first.json
        assert second_worker.extensions["peerlex.diff_cache"].computed == 0
    finally:
        second_worker.extensions["peerlex.db"].engine.dispose()


def test_the_cache_stays_within_its_bound(config: Config) -> None:
    from server.services.diffs import DiffCache

    cache = DiffCache(config.data_dir / "cache", 30_000, 500, 200_000)

    def write(directory: Path) -> None:
        (directory / "meta.json").write_text("{}" + " " * 9_000)

    for n in range(10):
        cache.fill(cache.entry("BLR", "law", None, f"{n:040x}", "json"), write)
    total = sum(f.stat().st_size for f in (config.data_dir / "cache").rglob("*") if f.is_file())
    assert total <= 30_000
    assert cache.meta(cache.entry("BLR", "law", None, f"{9:040x}", "json")) is not None
    assert cache.meta(cache.entry("BLR", "law", None, f"{0:040x}", "json")) is None


def test_a_stored_version_over_the_limit_is_not_compared(
    app: Flask, world: dict[str, Api], put_doc: DocFactory
) -> None:
    (v1,) = push(put_doc, law(3))
    with app.app_context():
        # Saved under a higher limit, or before limits: straight into the repository.
        v2, _ = services().store.put_document(
            "BLR",
            "export-law",
            REPRODUCTION,
            {"title": None, "kind": None, "language": None},
            base=v1,
            author=Identity("Expert", "expert@blr.example"),
            committer_name="Belarus",
            message="huge",
        )
    start = time.perf_counter()
    answer = world["own"].get(DIFF, query_string={"from": v1, "to": v2})
    assert time.perf_counter() - start < 5
    assert answer.status_code == 422
    assert answer.json["type"].endswith("/too-many-blocks")
    assert answer.json["limit"] == DEFAULT_MAX_BLOCKS


def test_expensive_comparisons_over_the_cap_are_refused_at_once(
    app: Flask, world: dict[str, Api], put_doc: DocFactory
) -> None:
    big_old, big_new = law(5_000), law(5_000, changed=4_000)
    v1, v2 = push(put_doc, big_old, big_new)
    small = push(put_doc, law(3), law(3, changed=2), slug="small-law")
    gate: WorkGate = app.extensions["peerlex.work_gate"]
    with ExitStack() as held:
        for _ in range(gate.slots):
            held.enter_context(gate.expensive("test"))
        start = time.perf_counter()
        busy = world["own"].get(DIFF, query_string={"from": v1, "to": v2})
        assert time.perf_counter() - start < 1
        assert busy.status_code == 503
        assert busy.mimetype == "application/problem+json"
        assert busy.headers["Retry-After"] == str(RETRY_AFTER)
        assert busy.json["type"].endswith("/busy")
        # A small comparison needs no slot.
        cheap = world["own"].get(
            DIFF.replace("export-law", "small-law"),
            query_string={"from": small[0], "to": small[1]},
        )
        assert cheap.status_code == 200
    # The refusal was not cached: with a slot free, the comparison is made (in a child).
    answer = world["own"].get(DIFF, query_string={"from": v1, "to": v2, "page": 16})
    assert answer.status_code == 200
    assert answer.json["pages"] == 20
    assert any(b["op"] == "replace" for b in answer.json["blocks"])


def test_the_limits_come_from_the_environment(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            "PEERLEX_DATA": str(tmp_path),
            "PEERLEX_MAX_DOCUMENT_BLOCKS": "2000",
            "PEERLEX_PAGE_BLOCKS": "50",
            "PEERLEX_EXPENSIVE_PER_WORKER": "3",
        }
    )
    assert (config.max_document_blocks, config.page_blocks) == (2000, 50)
    assert config.expensive_per_worker == 3
    assert replace(config, page_chars=10).page_chars == 10


def test_a_large_document_needs_a_slot_and_a_small_one_does_not(
    app: Flask, world: dict[str, Api], put_doc: DocFactory
) -> None:
    push(put_doc, law(5_000))
    push(put_doc, law(3), slug="small-law")
    whole = world["own"].get(DOC)
    assert whole.status_code == 200
    gate: WorkGate = app.extensions["peerlex.work_gate"]
    with ExitStack() as held:
        for _ in range(gate.slots):
            held.enter_context(gate.expensive("test"))
        busy = world["own"].get(DOC)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == str(RETRY_AFTER)
        assert world["own"].get(DOC.replace("export-law", "small-law")).status_code == 200
    again = world["own"].get(DOC)
    assert again.json == whole.json
    assert again.json["content"] == law(5_000)
