"""fsck finds nothing in a healthy data directory and names each kind of damage."""

from __future__ import annotations

import zlib
from pathlib import Path

from server.db import db_session
from server.fsck import run_fsck
from server.models import Approval
from tests.bundle_fixtures import Agreed


def problems(agreed: Agreed) -> list[str]:
    with agreed.app.app_context():
        return list(run_fsck())


def test_healthy_data_has_no_problems(agreed: Agreed) -> None:
    assert problems(agreed) == []


def test_corrupted_git_object_is_found(agreed: Agreed) -> None:
    repos: Path = agreed.app.extensions["peerlex.config"].repos_dir
    head = (repos / "BLR.git" / "refs" / "heads" / "main").read_text().strip()
    path = repos / "BLR.git" / "objects" / head[:2] / head[2:]
    raw = zlib.decompress(path.read_bytes())
    path.chmod(0o644)
    path.write_bytes(zlib.compress(raw.replace(b"Peerlex-Party: BLR", b"Peerlex-Party: BLX")))
    found = problems(agreed)
    assert found
    assert all(line.startswith("BLR: ") for line in found)
    assert any("git fsck" in line for line in found)


def test_corrupted_blob_is_found(agreed: Agreed) -> None:
    blobs: Path = agreed.app.extensions["peerlex.config"].blobs_dir
    listed = agreed.world["own"].get("/api/v1/parties/BLR/documents/export-law/attachments")
    sha = listed.json[0]["sha256"]
    target = blobs / sha[:2] / f"{sha}.age"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF
    target.chmod(0o644)
    target.write_bytes(bytes(data))
    found = problems(agreed)
    assert any("blob" in line and "sha256" in line for line in found), found


def test_forged_approval_is_found(agreed: Agreed) -> None:
    with agreed.app.app_context():
        approval = db_session().query(Approval).first()
        assert approval is not None
        approval.statement = approval.statement.replace('"BLR"', '"KGZ"')
        db_session().commit()
    found = problems(agreed)
    assert any(line.startswith("approval ") for line in found), found
