"""The diff route: three formats, defaults, shares honoured, bad input refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from flask import Flask

from tests.server.review_fixtures import LAW_V1, LAW_V2, LAW_V3, ReviewWorld
from tests.support.api import Api, DocFactory

DIFF = "/api/v1/parties/BLR/documents/export-law/diff"


def push(put_doc: DocFactory, *texts: str) -> list[str]:
    versions: list[str] = []
    for text in texts:
        response = put_doc(text, base=versions[-1] if versions else None)
        versions.append(response.json["version"]["commit"])
    return versions


def test_json_diff_defaults_to_head_and_its_parent(
    world: dict[str, Api], put_doc: DocFactory
) -> None:
    v1, v2 = push(put_doc, LAW_V1, LAW_V2)
    response = world["own"].get(DIFF)
    assert response.status_code == 200
    body = response.json
    assert (body["from"], body["to"]) == (v1, v2)
    changed = [b for b in body["blocks"] if b["op"] != "equal"]
    assert len(changed) == 1
    inserted = "".join(t["text"] for t in changed[0]["tokens"] if t["op"] == "insert")
    assert inserted.strip() == "Он применяется также к передаче технологий."


def test_first_version_diffs_against_nothing(world: dict[str, Api], put_doc: DocFactory) -> None:
    (v1,) = push(put_doc, LAW_V1)
    body = world["own"].get(DIFF).json
    assert body["from"] is None
    assert body["to"] == v1
    assert {b["op"] for b in body["blocks"]} == {"insert"}


def test_unified_is_what_git_diff_prints(
    app: Flask, world: dict[str, Api], put_doc: DocFactory
) -> None:
    v1, v2, v3 = push(put_doc, LAW_V1, LAW_V2, LAW_V3)
    response = world["own"].get(DIFF, query_string={"from": v1, "to": v3, "format": "unified"})
    assert response.status_code == 200
    repo: Path = app.extensions["peerlex.config"].repos_dir / "BLR.git"
    expected = subprocess.run(
        ["git", f"--git-dir={repo}", "diff", v1, v3, "--", "documents/export-law.md"],
        capture_output=True,
        check=True,
    ).stdout
    assert response.data == expected
    assert v2  # the middle version is not part of this diff


def test_html_redline_is_escaped_and_script_free(
    world: dict[str, Api], put_doc: DocFactory
) -> None:
    hostile = 'Статья 1. <script>alert(1)</script>\n\n"><img src=x onerror=alert(2)>\n'
    push(put_doc, LAW_V1, hostile)
    response = world["own"].get(DIFF, query_string={"format": "html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    assert "'unsafe-inline'" not in policy


@pytest.mark.parametrize(
    "query",
    [
        {"from": "HEAD"},
        {"to": "--output=/tmp/x"},
        {"from": "0" * 40},
        {"format": "odt"},
        {"context": "3"},
    ],
)
def test_bad_diff_queries(
    world: dict[str, Api], put_doc: DocFactory, query: dict[str, str]
) -> None:
    push(put_doc, LAW_V1, LAW_V2)
    response = world["own"].get(DIFF, query_string=query)
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


def test_version_of_another_party_is_refused(world: dict[str, Api], put_doc: DocFactory) -> None:
    push(put_doc, LAW_V1, LAW_V2)
    other = (
        world["other"]
        .put("/api/v1/parties/KGZ/documents/export-law", json={"content": "Закон", "message": "m"})
        .json["version"]["commit"]
    )
    assert world["own"].get(DIFF, query_string={"from": other}).status_code == 404
    assert world["own"].get(DIFF, query_string={"to": other}).status_code == 404


def test_diff_honours_shares(review_world: ReviewWorld) -> None:
    world = review_world
    v1, v2, v3 = world.push(LAW_V1), world.push(LAW_V2), world.push(LAW_V3)
    world.share(v1)
    world.share(v3)
    body = world["peer"].get(DIFF).json
    assert (body["from"], body["to"]) == (v1, v3)  # the previous *shared* version
    assert world["peer"].get(DIFF, query_string={"from": v2}).status_code == 404
    assert world["peer"].get(DIFF, query_string={"to": v2}).status_code == 404
    assert world["outsider"].get(DIFF).status_code == 404
    assert world["own"].get(DIFF, query_string={"from": v2}).status_code == 200


def test_huge_inputs_answer_in_bounded_time(world: dict[str, Api], put_doc: DocFactory) -> None:
    import time

    long_line = "слово " * 33_000  # ~200,000 characters on one line
    empty_paragraphs = "\n\n" * 50_000 + "Статья 1.\n"
    push(put_doc, long_line, long_line.replace("слово", "буква", 7) + "\n" + empty_paragraphs)
    started = time.monotonic()
    assert world["own"].get(DIFF).status_code == 200
    assert world["own"].get(DIFF, query_string={"format": "html"}).status_code == 200
    assert time.monotonic() - started < 10
