"""Attachments through the API: encrypted at rest, readable by exactly the entitled parties."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import ClientDisconnected

from keys.age import identity_string
from tests.server.review_fixtures import LAW_V1, ReviewWorld

ATTACH = "/api/v1/parties/BLR/documents/export-law/attachments"
SCAN = bytes(range(256)) * 1000 + "Национальный контрольный список".encode()


def upload(world: ReviewWorld, data: bytes, name: str = "Список.pdf", **kwargs: Any) -> Any:
    return world["own"].post(
        ATTACH, query_string={"name": name}, data=data, content_type="application/pdf", **kwargs
    )


def blobs(app: Flask) -> list[Path]:
    root: Path = app.extensions["peerlex.config"].blobs_dir
    return sorted(p for p in root.rglob("*.age"))


def test_upload_is_encrypted_and_owner_downloads(
    app: Flask, review_world: ReviewWorld, tmp_path: Path
) -> None:
    world = review_world
    world.push(LAW_V1)
    made = upload(world, SCAN)
    assert made.status_code == 201, made.json
    record = made.json
    assert record["recipients"] == ["BLR"]
    assert record["size"] == len(SCAN)
    (blob,) = blobs(app)
    assert SCAN[:64] not in blob.read_bytes()
    # The stored blob is a real age file: the age tool opens it with BLR's identity.
    with app.app_context():
        key = app.extensions["peerlex.services"].keys.current("BLR").encryption_key
    (tmp_path / "id.txt").write_text(identity_string(key) + "\n")
    plain = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "id.txt"), str(blob)], capture_output=True, check=True
    ).stdout
    assert plain == SCAN
    got = world["own"].get(f"{ATTACH}/{record['id']}")
    assert got.status_code == 200
    assert got.data == SCAN
    assert got.headers["Content-Disposition"].startswith('attachment; filename="______.pdf"')
    assert (
        "filename*=UTF-8''%D0%A1%D0%BF%D0%B8%D1%81%D0%BE%D0%BA.pdf"
        in (got.headers["Content-Disposition"])
    )
    listed = world["own"].get(ATTACH).json
    assert [a["id"] for a in listed] == [record["id"]]


def test_peer_reads_only_after_the_share(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    attachment = upload(world, SCAN).json["id"]
    assert world["peer"].get(f"{ATTACH}/{attachment}").status_code == 404
    assert world["peer"].get(ATTACH).status_code == 404
    original = blobs(app)
    assert world.share(v1).status_code == 201
    after = world["peer"].get(ATTACH).json
    assert after[0]["recipients"] == ["BLR", "GOE", "KGZ", "TJK", "UNRCPD"]
    got = world["peer"].get(f"{ATTACH}/{attachment}")
    assert got.status_code == 200
    assert got.data == SCAN
    # Sharing rewrote the header only: the payload after it is byte for byte the same.
    new_blob = [b for b in blobs(app) if b not in original][0]
    old, new = original[0].read_bytes(), new_blob.read_bytes()

    def payload(blob: bytes) -> bytes:
        return blob[blob.index(b"\n--- ") :].split(b"\n", 2)[2]

    assert payload(old) == payload(new)
    assert old[:200] != new[:200]
    assert world["outsider"].get(f"{ATTACH}/{attachment}").status_code == 404


def test_tampered_blob_is_an_error_without_plaintext(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    world.push(LAW_V1)
    attachment = upload(world, SCAN).json["id"]
    (blob,) = blobs(app)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.chmod(0o600)
    blob.write_bytes(bytes(data))
    got = world["own"].get(f"{ATTACH}/{attachment}")
    assert got.status_code == 500
    assert got.mimetype == "application/problem+json"
    assert SCAN[:32] not in got.data


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("a\x00b.pdf", "ab.pdf"),
        ("CON.txt", "_CON.txt"),
        ("..", "attachment"),
        ("C:\\Windows\\x.docx", "x.docx"),
        ("line\nbreak.pdf", "line break.pdf"),
    ],
)
def test_hostile_names_are_made_safe(review_world: ReviewWorld, name: str, expected: str) -> None:
    world = review_world
    world.push(LAW_V1)
    made = world["own"].post(ATTACH, data=b"x", query_string={"name": name})
    assert made.status_code == 201
    assert made.json["name"] == expected


def test_oversized_upload_is_413_and_stores_nothing(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    world.push(LAW_V1)
    config = app.extensions["peerlex.config"]
    object.__setattr__(config, "max_attachment_bytes", 1000)
    refs_before = (config.repos_dir / "BLR.git" / "refs" / "documents" / "export-law").read_text()
    response = upload(world, b"x" * 5000)
    assert response.status_code == 413
    assert blobs(app) == []
    assert not list(config.blobs_dir.rglob("*"))
    assert (
        config.repos_dir / "BLR.git" / "refs" / "documents" / "export-law"
    ).read_text() == refs_before


class _Disconnecting(io.BytesIO):
    """An upload body that breaks off half-way, as a dropped connection does under werkzeug."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= len(self.getbuffer()) // 2:
            raise ClientDisconnected()
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        if self.tell() >= len(self.getbuffer()) // 2:
            raise ClientDisconnected()
        return super().readinto(buffer)


def test_interrupted_upload_leaves_nothing(app: Flask, review_world: ReviewWorld) -> None:
    world = review_world
    world.push(LAW_V1)
    config = app.extensions["peerlex.config"]
    head = (config.repos_dir / "BLR.git" / "refs" / "documents" / "export-law").read_text()
    # The client goes away half-way: the server's input stream raises, as werkzeug does.
    response = world["own"].post(ATTACH, input_stream=_Disconnecting(b"x" * 3_000_000))
    assert 400 <= response.status_code < 500
    assert blobs(app) == []
    assert (config.repos_dir / "BLR.git" / "refs" / "documents" / "export-law").read_text() == head


def test_upload_to_missing_or_foreign_document(review_world: ReviewWorld) -> None:
    world = review_world
    world.push(LAW_V1)
    assert (
        world["own"].post("/api/v1/parties/BLR/documents/nope/attachments", data=b"x").status_code
        == 404
    )
    assert world["peer"].post(ATTACH, data=b"x").status_code == 404
    stale = world["own"].post(ATTACH, data=b"x", query_string={"base": "a" * 40})
    assert stale.status_code == 409
