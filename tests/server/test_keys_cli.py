"""Key custody from the command line: rotation keeps history verifiable, export works with age."""

from __future__ import annotations

import subprocess
from pathlib import Path

from flask import Flask

from server.cli import main
from tests.server.review_fixtures import LAW_V1, LAW_V2, ReviewWorld
from tests.support.api import server_cli
from tests.support.signatures import git_verify_commit

ATTACH = "/api/v1/parties/BLR/documents/export-law/attachments"


def cli(app: Flask, *args: str, stdin: str | None = None) -> str:
    data = str(app.extensions["peerlex.config"].data_dir)
    result = server_cli(app).invoke(main, ["--data", data, *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_exported_identity_decrypts_blobs_with_age(
    app: Flask, review_world: ReviewWorld, tmp_path: Path
) -> None:
    review_world.push(LAW_V1)
    made = review_world["own"].post(ATTACH, query_string={"name": "a.txt"}, data=b"secret annex")
    sha = made.json["sha256"]
    identity = tmp_path / "blr.txt"
    identity.write_text(cli(app, "keys", "export-identity", "BLR", "--yes"))
    blob = app.extensions["peerlex.config"].blobs_dir / sha[:2] / f"{sha}.age"
    out = subprocess.run(
        ["age", "-d", "-i", str(identity), str(blob)], capture_output=True, check=True
    ).stdout
    assert out == b"secret annex"


def test_export_asks_for_confirmation(app: Flask, review_world: ReviewWorld) -> None:
    data = str(app.extensions["peerlex.config"].data_dir)
    result = server_cli(app).invoke(
        main, ["--data", data, "keys", "export-identity", "BLR"], input="n\n"
    )
    assert result.exit_code != 0
    assert "AGE-SECRET-KEY" not in result.output


def test_rotation_keeps_history_verifiable_and_attachments_readable(
    app: Flask, review_world: ReviewWorld, tmp_path: Path
) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    attachment = world["own"].post(ATTACH, query_string={"name": "a.txt"}, data=b"annex").json
    world.share(v1)
    assert "re-wrapped" in cli(app, "keys", "rotate", "BLR")
    v2 = world.push(LAW_V2)
    versions = world["own"].get("/api/v1/parties/BLR/documents/export-law/versions").json
    assert [v["signature"]["status"] for v in versions] == ["good", "good"]
    assert versions[0]["signature"]["fingerprint"] != versions[1]["signature"]["fingerprint"]
    signers = tmp_path / "allowed_signers"
    signers.write_bytes(world["anonymous"].get("/api/v1/allowed_signers").data)
    assert "valid-before" in signers.read_text()
    repo = app.extensions["peerlex.config"].repos_dir / "BLR.git"
    for sha in (v1, v2):
        result = git_verify_commit(repo, signers, sha)
        assert result.returncode == 0, result.stderr
    # Owner and peer still read the attachment, now wrapped for the new key.
    for role in ("own", "peer"):
        got = world[role].get(f"{ATTACH}/{attachment['id']}")
        assert got.status_code == 200
        assert got.data == b"annex"
    listed = world["own"].get(ATTACH).json
    assert listed[0]["sha256"] != attachment["sha256"]
