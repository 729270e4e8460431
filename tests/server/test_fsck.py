"""fsck finds nothing in a healthy data directory and names each kind of damage."""

from __future__ import annotations

import zlib
from pathlib import Path

from server.cli import main
from server.db import db_session
from server.fsck import run_fsck
from server.models import Approval
from tests.bundle_fixtures import Agreed
from tests.support.api import server_cli


def problems(agreed: Agreed) -> list[str]:
    with agreed.app.app_context():
        return list(run_fsck())


def test_healthy_data_has_no_problems(agreed: Agreed) -> None:
    assert problems(agreed) == []


def test_corrupted_git_object_is_found(agreed: Agreed) -> None:
    repos: Path = agreed.app.extensions["peerlex.config"].repos_dir
    head = (repos / "BLR.git" / "refs" / "documents" / "export-law").read_text().strip()
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


def test_a_repository_of_the_first_layout_is_refused(agreed: Agreed) -> None:
    """One branch holding every document discloses them all: never served, named by fsck."""
    config = agreed.app.extensions["peerlex.config"]
    repo = config.repos_dir / "KGZ.git"
    head = (repo / "refs" / "documents" / "action-plan").read_text().strip()
    (repo / "refs" / "heads").mkdir(exist_ok=True)
    (repo / "refs" / "heads" / "main").write_text(f"{head}\n")
    found = problems(agreed)
    assert len(found) == 1
    assert "KGZ" in found[0]
    assert "first layout" in found[0]
    runner = server_cli(agreed.app)
    for command in (["init", "--if-missing"], ["fsck"], ["run", "--port", "1"]):
        result = runner.invoke(main, ["--data", str(config.data_dir), *command])
        assert result.exit_code != 0
        assert "first layout" in result.output
        assert "Traceback" not in result.output
