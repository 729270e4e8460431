"""Bad input gets a clear 4xx problem and changes nothing: refs, objects and database."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import MetaData, select

from tests.support.api import Api, DocFactory

BASE_URL = "/api/v1/parties/BLR/documents"


def snapshot(app: Flask) -> tuple[Any, ...]:
    """Everything a write could touch: refs, object files, and every database row."""
    config = app.extensions["peerlex.config"]
    repos: Path = config.repos_dir
    refs = sorted((str(p), p.read_text()) for p in repos.rglob("refs/**/*") if p.is_file())
    objects = sorted(str(p) for p in repos.rglob("objects/??/*"))
    return refs, objects, hashlib.sha256(database_rows(app).encode()).hexdigest()


def database_rows(app: Flask) -> str:
    """Every row of every table, in a stable order, on SQLite and PostgreSQL alike."""
    engine = app.extensions["peerlex.db"].read_engine
    tables = MetaData()
    tables.reflect(engine)
    lines = []
    with engine.connect() as connection:
        for table in tables.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            for row in connection.execute(select(table).order_by(*order)):
                lines.append(f"{table.name} {tuple(row)!r}")
    return "\n".join(lines)


def _body(**changes: Any) -> dict[str, Any]:
    return {"content": "Статья 1. Текст\n", "message": "m", **changes}


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("traversal", "..%2Fx", {"json": _body()}),
    ("dot-git", ".git", {"json": _body()}),
    ("slash", "a%2Fb", {"json": _body()}),
    ("option", "-rf", {"json": _body()}),
    ("upper-case", "Export-Law", {"json": _body()}),
    ("nul-in-slug", "a%00b", {"json": _body()}),
    (
        "invalid-utf8",
        "law",
        {"data": b'{"content": "\xff\xfe", "message": "m"}', "content_type": "application/json"},
    ),
    ("not-json", "law", {"data": b"content=1", "content_type": "application/json"}),
    ("form-body", "law", {"data": {"content": "x", "message": "m"}}),
    ("unknown-field", "law", {"json": _body(owner="KGZ")}),
    ("nul-in-content", "law", {"json": _body(content="a\x00b")}),
    (
        "lone-surrogate",
        "law",
        {"data": b'{"content": "\\ud800", "message": "m"}', "content_type": "application/json"},
    ),
    ("content-not-string", "law", {"json": _body(content=["x"])}),
    ("empty-message", "law", {"json": _body(message="")}),
    ("base-not-sha", "law", {"json": _body(base="HEAD")}),
    ("base-option", "law", {"json": _body(base="--all")}),
    ("base-unknown", "law", {"json": _body(base="1" * 40)}),
    ("bad-kind", "law", {"json": _body(kind="treaty")}),
    ("bad-language", "law", {"json": _body(language="Russian!")}),
    (
        "deep-json",
        "law",
        {"data": b"[" * 100_000 + b"]" * 100_000, "content_type": "application/json"},
    ),
    (
        "too-large",
        "law",
        {
            "data": b'{"content": "' + b"x" * (17 * 1024 * 1024) + b'"}',
            "content_type": "application/json",
        },
    ),
]


@pytest.mark.parametrize(("slug", "kwargs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_write_is_4xx_and_writes_nothing(
    app: Flask, world: dict[str, Api], put_doc: DocFactory, slug: str, kwargs: dict[str, Any]
) -> None:
    put_doc("Статья 1.\n", slug="law")
    before = snapshot(app)
    response = world["own"].put(f"{BASE_URL}/{slug}", **kwargs)
    assert 400 <= response.status_code < 500, response.data[:300]
    if response.status_code != 405:
        assert response.mimetype == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= set(response.json)
    assert snapshot(app) == before


def test_base_from_another_document_history_is_refused(
    world: dict[str, Api], put_doc: DocFactory
) -> None:
    put_doc("Статья 1.\n", slug="law")
    other = put_doc("plan\n", slug="plan").json["version"]["commit"]
    response = put_doc("Статья 2.\n", slug="law", base=other)
    # Each document has its own history: another document's version is no base for this one.
    assert response.status_code == 422
    assert response.json["type"].endswith("unknown-base")


@pytest.mark.parametrize(
    "query", ["version=HEAD", "version=" + "2" * 40, "version=--all", "unknown=1"]
)
def test_bad_reads_are_4xx(world: dict[str, Api], put_doc: DocFactory, query: str) -> None:
    put_doc("Статья 1.\n", slug="law")
    response = world["own"].get(f"{BASE_URL}/law?{query}")
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


# An unknown party is not found; a malformed code is bad input (DESIGN.md §10).
@pytest.mark.parametrize(
    ("party", "status"), [("XYZ", 404), ("blr", 400), ("B", 400), ("-rf", 400)]
)
def test_unknown_or_invalid_party_codes(world: dict[str, Api], party: str, status: int) -> None:
    response = world["own"].get(f"/api/v1/parties/{party}/documents")
    assert response.status_code == status
    assert json.loads(response.data)["status"] == response.status_code
