"""A Word draft PUT as a version: converted to the stored text, the .docx kept encrypted as an
attachment of that very version, and every refusal writing nothing."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from keys.age import identity_string
from repo_store.word.reader import read_docx
from server.config import Config
from tests.server.custody_fixtures import CustodyWorld
from tests.server.review_fixtures import LAW_V1, ReviewWorld
from tests.support.docx_files import make_docx, with_tracked_changes, zip_bomb

DOC = "/api/v1/parties/BLR/documents/export-law"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_DOCX = 2 * 1024 * 1024
DRAFT = [
    "Закон об экспортном контроле",
    "Статья 1. Сфера применения",
    "Настоящий Закон регулирует экспорт товаров двойного назначения.",
    "Статья 2. Лицензирование",
    "Экспорт осуществляется на основании лицензии.",
]
REDRAFT = [*DRAFT[:4], "Экспорт осуществляется на основании разовой лицензии."]


@pytest.fixture
def config(config: Config) -> Config:
    """The suite's configuration with a small bound on drafts, to test it cheaply."""
    return dataclasses.replace(config, max_docx_bytes=MAX_DOCX)


def put_docx(
    world: ReviewWorld,
    data: bytes,
    *,
    role: str = "own",
    base: str | None = None,
    message: str = "Проект из Word",
    **query: str,
) -> Any:
    headers = {"If-Match": f'"{base}"'} if base else {}
    return world[role].put(
        DOC,
        data=data,
        content_type=DOCX,
        query_string={"message": message, **query},
        headers=headers,
    )


def blobs(app: Flask) -> list[Path]:
    return sorted(app.extensions["peerlex.config"].blobs_dir.rglob("*.age"))


def state(app: Flask, world: ReviewWorld) -> tuple[Any, ...]:
    """Everything a refused import must leave as it was: history, blobs, audit rows."""
    versions = world["own"].get(f"{DOC}/versions")
    attachments = world["own"].get(f"{DOC}/attachments")
    audit = world["organiser"].get("/api/v1/audit")
    return (
        versions.status_code,
        versions.json,
        attachments.status_code,
        attachments.json,
        blobs(app),
        len(audit.json) if audit.status_code == 200 else audit.status_code,
    )


def test_new_document_from_docx(app: Flask, review_world: ReviewWorld, tmp_path: Path) -> None:
    world = review_world
    data = make_docx(DRAFT, title="Закон об экспорте")
    made = put_docx(world, data, language="ru", kind="law")
    assert made.status_code == 201, made.json
    version = made.json["version"]["commit"]
    assert made.json["title"] == "Закон об экспорте"
    assert made.json["kind"] == "law"
    stored = world["own"].get(DOC).json
    assert stored["content"] == read_docx(data).text
    assert "Статья 2. Лицензирование" in stored["content"]
    # The original is an attachment of that very version, recorded by the same commit.
    (attachment,) = world["own"].get(f"{DOC}/attachments").json
    assert attachment["media_type"] == DOCX
    assert attachment["size"] == len(data)
    assert [v["commit"] for v in world["own"].get(f"{DOC}/versions").json] == [version]
    got = world["own"].get(f"{DOC}/attachments/{attachment['id']}")
    assert got.status_code == 200
    assert got.data == data
    # At rest it is an age file that the age tool opens with BLR's identity.
    (blob,) = blobs(app)
    with app.app_context():
        key = app.extensions["peerlex.services"].keys.current("BLR").encryption_key
    (tmp_path / "id.txt").write_text(identity_string(key) + "\n")
    plain = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "id.txt"), str(blob)], capture_output=True, check=True
    ).stdout
    assert plain == data


def test_update_from_docx_and_stale_base(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    first = put_docx(world, make_docx(DRAFT)).json["version"]["commit"]
    data = make_docx(REDRAFT)
    updated = put_docx(world, data, base=first, message="Разовая лицензия")
    assert updated.status_code == 200, updated.json
    second = updated.json["version"]["commit"]
    assert second != first
    assert updated.json["version"]["message"] == "Разовая лицензия"
    assert world["own"].get(DOC).json["content"] == read_docx(data).text
    assert len(world["own"].get(f"{DOC}/attachments").json) == 2
    before = state(app, world)
    stale = put_docx(world, make_docx([*REDRAFT, "Ещё"]), base=first)
    assert stale.status_code == 409
    assert stale.json["type"].endswith("/stale-version")
    assert stale.json["head"] == second
    assert state(app, world) == before


def test_existing_document_without_base_is_a_conflict(
    app: Flask, review_world: ReviewWorld
) -> None:
    world = review_world
    world.push(LAW_V1)
    before = state(app, world)
    refused = put_docx(world, make_docx(DRAFT))
    assert refused.status_code == 409
    assert refused.json["type"].endswith("/document-exists")
    assert state(app, world) == before


def test_tracked_changes_are_refused_naming_them(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    before = state(app, world)
    refused = put_docx(world, with_tracked_changes(DRAFT, insertions=3, deletions=2))
    assert refused.status_code == 422, refused.json
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["type"].endswith("/docx-tracked-changes")
    assert "3" in refused.json["detail"]
    assert "2" in refused.json["detail"]
    assert state(app, world) == before


@pytest.mark.parametrize(
    ("body", "statuses"),
    [
        (b"plain text, not a Word document", (415, 422)),
        (b"PK\x03\x04" + b"\x00" * 200, (415, 422)),
        (b"%PDF-1.7\n" + b"x" * 100, (415, 422)),
    ],
)
def test_not_word_is_refused(
    app: Flask, review_world: ReviewWorld, body: bytes, statuses: tuple[int, ...]
) -> None:
    world = review_world
    before = state(app, world)
    refused = put_docx(world, body)
    assert refused.status_code in statuses, refused.json
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["type"].rsplit("/", 1)[-1].startswith("docx-")
    assert state(app, world) == before


def test_zip_bomb_is_refused(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    bomb = zip_bomb()
    assert len(bomb) < MAX_DOCX
    before = state(app, world)
    refused = put_docx(world, bomb)
    assert refused.status_code == 413, refused.json
    assert state(app, world) == before


def test_too_large_is_refused(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    before = state(app, world)
    refused = put_docx(world, b"PK\x03\x04" + b"\x00" * MAX_DOCX)
    assert refused.status_code == 413, refused.json
    assert refused.json["type"].endswith("/docx-too-large")
    assert state(app, world) == before


def test_message_is_required_and_checked(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    refused = world["own"].put(DOC, data=make_docx(DRAFT), content_type=DOCX)
    assert refused.status_code == 422
    assert "message" in refused.json["errors"]["query"]
    bad_kind = put_docx(world, make_docx(DRAFT), kind="poem")
    assert bad_kind.status_code == 422
    assert world["own"].get(DOC).status_code == 404


@pytest.mark.parametrize("role", ["peer", "outsider", "organiser", "anonymous"])
def test_only_the_owning_state_imports(app: Flask, review_world: ReviewWorld, role: str) -> None:
    world = review_world
    before = state(app, world)
    refused = put_docx(world, make_docx(DRAFT), role=role)
    assert refused.status_code in ((401,) if role == "anonymous" else (404,))
    assert state(app, world) == before


def test_comments_anchor_on_imported_text(review_world: ReviewWorld) -> None:
    world = review_world
    made = put_docx(world, make_docx(DRAFT))
    version = made.json["version"]["commit"]
    assert world.share(version).status_code == 201
    comment = world["peer"].post(
        world.url("/comments"),
        json={
            "party": "BLR",
            "slug": "export-law",
            "version": version,
            "quote": "товаров двойного назначения",
            "body": "Какой перечень?",
        },
    )
    assert comment.status_code == 201, comment.json
    assert comment.json["anchor"]["quote"] == "товаров двойного назначения"
    # The peer reads the kept original once the version is shared.
    (attachment,) = world["peer"].get(f"{DOC}/attachments").json
    assert world["peer"].get(f"{DOC}/attachments/{attachment['id']}").status_code == 200


def test_self_custody_state_is_told_the_way(app: Flask, custody_world: CustodyWorld) -> None:
    world = custody_world
    url = "/api/v1/parties/TKM/documents/export-law"
    refused = world["self_expert"].put(
        url, data=make_docx(DRAFT), content_type=DOCX, query_string={"message": "draft"}
    )
    assert refused.status_code == 409
    assert refused.json["type"].endswith("/signature-required")
    assert "--key" in refused.json["detail"]
    assert world["self_expert"].get(url).status_code == 404
    assert blobs(app) == []


def test_unannounced_body_past_the_bound_is_refused(app: Flask, review_world: ReviewWorld) -> None:
    """A body sent without Content-Length is counted as it arrives."""
    world = review_world
    before = state(app, world)
    refused = world["own"].put(
        DOC,
        input_stream=io.BytesIO(b"PK\x03\x04" + b"\x00" * MAX_DOCX),
        content_type=DOCX,
        query_string={"message": "draft"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert refused.status_code == 413, refused.json
    assert refused.json["type"].endswith("/docx-too-large")
    assert state(app, world) == before
