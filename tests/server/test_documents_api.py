"""Documents through the HTTP API: create, update, versions, stale writes, stock-git checks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.support.api import Api, DocFactory
from tests.support.signatures import git_verify_commit

LAW = "Статья 1. Сфера применения\n\nНастоящий Закон регулирует экспорт.\n"
URL = "/api/v1/parties/BLR/documents/export-law"


def test_create_update_and_list_versions(world: dict[str, Api], put_doc: DocFactory) -> None:
    created = put_doc(LAW, title="Закон об экспортном контроле", kind="law", language="ru")
    assert created.status_code == 201
    v1 = created.json["version"]["commit"]
    assert created.json["version"]["signature"]["status"] == "good"
    updated = put_doc(LAW + "\nСтатья 2. Лицензии\n", base=v1)
    assert updated.status_code == 200
    v2 = updated.json["version"]["commit"]
    assert updated.json["title"] == "Закон об экспортном контроле"  # metadata carried over

    versions = world["own"].get(f"{URL}/versions").json
    assert [v["commit"] for v in versions] == [v2, v1]
    assert versions[0]["parent"] == v1
    assert versions[0]["message"] == "draft"
    assert versions[0]["committed_at"].endswith("+00:00")
    assert {v["signature"]["status"] for v in versions} == {"good"}
    assert {v["signature"]["party"] for v in versions} == {"BLR"}

    head = world["own"].get(URL).json
    assert head["version"]["commit"] == v2
    assert head["content"].endswith("Лицензии\n")
    old = world["own"].get(URL, query_string={"version": v1}).json
    assert old["content"] == LAW
    listing = world["head"].get("/api/v1/parties/BLR/documents").json
    assert [(d["slug"], d["version"]["commit"]) for d in listing] == [("export-law", v2)]
    assert "content" not in listing[0]


def test_stale_base_is_409_with_current_head(world: dict[str, Api], put_doc: DocFactory) -> None:
    v1 = put_doc(LAW).json["version"]["commit"]
    v2 = put_doc(LAW + "x\n", base=v1).json["version"]["commit"]
    stale = put_doc(LAW + "y\n", base=v1)
    assert stale.status_code == 409
    assert stale.mimetype == "application/problem+json"
    assert stale.json["head"] == v2
    again = put_doc(LAW + "z\n")
    assert again.status_code == 409
    assert again.json["head"] == v2
    via_header = world["own"].put(
        URL, json={"content": LAW + "w\n", "message": "m"}, headers={"If-Match": f'"{v2}"'}
    )
    assert via_header.status_code == 200


def test_api_commit_verifies_with_git_and_api_allowed_signers(
    app: Flask, world: dict[str, Api], put_doc: DocFactory, tmp_path: Path
) -> None:
    sha = put_doc(LAW).json["version"]["commit"]
    signers = world["anonymous"].get("/api/v1/allowed_signers")
    assert signers.status_code == 200
    assert signers.mimetype == "text/plain"
    (tmp_path / "allowed_signers").write_bytes(signers.data)
    repo = app.extensions["peerlex.config"].repos_dir / "BLR.git"
    result = git_verify_commit(repo, tmp_path / "allowed_signers", sha)
    assert result.returncode == 0, result.stderr
    assert 'Good "git" signature for blr@parties.peerlex' in result.stderr


def test_openapi_document_is_generated(world: dict[str, Api]) -> None:
    spec = world["anonymous"].get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/parties/{party}/documents/{slug}" in spec["paths"]
    assert "DocumentPut" in spec["components"]["schemas"]


def test_healthz_and_security_headers(world: dict[str, Api]) -> None:
    response = world["anonymous"].get("/api/v1/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
