"""Attachments and a State that holds its own keys: encrypted to its recipients, served sealed."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask

from keys.age import decrypt, read_header_stanzas
from tests.server.custody_fixtures import CUSTODY_REVIEW, CustodyWorld
from tests.server.review_fixtures import LAW_V1
from tests.support.age_tool import age_decrypt

DOC = "/api/v1/parties/BLR/documents/export-law"
ATTACH = f"{DOC}/attachments"


def _blob(app: Flask, sha: str) -> bytes:
    path: Path = app.extensions["peerlex.config"].blobs_dir / sha[:2] / f"{sha}.age"
    return path.read_bytes()


def _share(world: CustodyWorld, version: str) -> int:
    shared = world["own"].post(
        f"/api/v1/reviews/{CUSTODY_REVIEW}/shares",
        json={"party": "BLR", "slug": "export-law", "version": version},
    )
    return int(shared.status_code)


def _attached(world: CustodyWorld, body: bytes = b"licence form") -> tuple[str, str]:
    """BLR's version with one attachment: (version, attachment id)."""
    version = world.world.push(LAW_V1)
    made = world["own"].post(ATTACH, query_string={"name": "form.txt"}, data=body)
    assert made.status_code == 201, made.json
    return version, made.json["id"]


def test_a_share_encrypts_to_the_self_custody_states_recipients(
    app: Flask, custody_world: CustodyWorld
) -> None:
    """A custodial owner's attachment shared with TKM opens with TKM's offline identity."""
    custody_world.register_recipient()
    version, attachment = _attached(custody_world)
    assert _share(custody_world, version) == 201
    record = custody_world["own"].get(f"{ATTACH}").json[0]
    assert record["recipients"] == ["BLR", "KGZ", "TKM", "UNRCPD"]
    out = io.BytesIO()
    decrypt(io.BytesIO(_blob(app, record["sha256"])), out, [custody_world.identity])
    assert out.getvalue() == b"licence form"
    # One stanza for each server key (BLR, KGZ, UNRCPD) and one for TKM's recipient.
    assert len(read_header_stanzas(io.BytesIO(_blob(app, record["sha256"])))) == 4


def test_a_share_with_a_state_without_recipients_is_refused_unchanged(
    app: Flask, custody_world: CustodyWorld
) -> None:
    version, _ = _attached(custody_world)
    before = custody_world["own"].get(ATTACH).json
    shared = custody_world["own"].post(
        f"/api/v1/reviews/{CUSTODY_REVIEW}/shares",
        json={"party": "BLR", "slug": "export-law", "version": version},
    )
    assert shared.status_code == 409, shared.json
    assert shared.json["type"].endswith("no-party-recipient")
    assert custody_world["own"].get(ATTACH).json == before
    assert custody_world["own"].get(f"/api/v1/reviews/{CUSTODY_REVIEW}/shares").json == []


def test_a_self_custody_reader_gets_the_sealed_age_file(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    """The server answers the stored blob itself, which the real age tool opens."""
    custody_world.register_recipient()
    version, attachment = _attached(custody_world)
    assert _share(custody_world, version) == 201
    got = custody_world["self_expert"].get(f"{ATTACH}/{attachment}")
    assert got.status_code == 200
    assert got.headers["X-Peerlex-Encryption"] == "age"
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert 'filename="form.txt.age"' in got.headers["Content-Disposition"]
    record = custody_world["own"].get(ATTACH).json[0]
    assert got.data == _blob(app, record["sha256"])
    assert int(got.headers["Content-Length"]) == len(got.data)
    opened = age_decrypt(tmp_path, custody_world.identity, got.data)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == b"licence form"
    # A reader whose keys the server holds still gets the plaintext.
    peer = custody_world["peer"].get(f"{ATTACH}/{attachment}")
    assert peer.data == b"licence form"
    assert "X-Peerlex-Encryption" not in peer.headers


def test_a_damaged_blob_is_not_sent_sealed(app: Flask, custody_world: CustodyWorld) -> None:
    custody_world.register_recipient()
    version, attachment = _attached(custody_world)
    assert _share(custody_world, version) == 201
    sha = custody_world["own"].get(ATTACH).json[0]["sha256"]
    path = app.extensions["peerlex.config"].blobs_dir / sha[:2] / f"{sha}.age"
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 1
    path.write_bytes(bytes(damaged))
    got = custody_world["self_expert"].get(f"{ATTACH}/{attachment}")
    assert got.status_code >= 500
    assert got.json["type"].endswith("attachment-damaged")
