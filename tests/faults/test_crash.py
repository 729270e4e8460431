"""A writer killed with SIGKILL at random points loses no acknowledged write and leaves no
partial one visible."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from keys.master import create_master_key, load_master_key
from keys.party_keys import KeyStore
from repo_store.attachments import get_attachment
from repo_store.blobs import BlobStore
from repo_store.commits import Identity
from repo_store.store import RepoStore

KILLS = 50


def test_sigkill_during_commits_and_uploads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    create_master_key(data / "master.key")
    keys = KeyStore(data / "keys", load_master_key(data / "master.key", {}))
    keys.create("BLR")
    store = RepoStore(data / "repos", keys)
    store.create_repository("BLR")
    store.put_document(
        "BLR",
        "law",
        "Статья 1.\n",
        {"title": "Закон"},
        base=None,
        author=Identity("a", "a@b.c"),
        committer_name="Belarus",
        message="v0",
    )
    rng = random.Random(1540)  # noqa: S311 - reproducible fault timing, not security
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for round_no in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.writer", str(data), str(round_no)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.35 + rng.random() * 0.3)  # start-up, then a random point mid-write
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        assert writer.returncode == -signal.SIGKILL, writer.stderr.read() if writer.stderr else ""
        if writer.stderr:
            writer.stderr.close()

    fresh = RepoStore(data / "repos", keys)
    history = [info.sha for info in fresh.history("BLR", "law")]
    acks = (data / "acks.log").read_text().splitlines()
    versions = [line.split()[1] for line in acks if line.startswith("version ")]
    attachments = [line.split()[1:] for line in acks if line.startswith("attachment ")]
    # Enough writes were acknowledged, and killed mid-way, for the checks below to mean much.
    assert len(versions) >= KILLS // 2, "the writer barely ran: timing is off"
    assert len(attachments) >= 3
    assert set(versions) <= set(history), "an acknowledged version is missing"
    assert len(history) == len(set(history))
    for sha in history:  # linear, and every commit complete and signed
        assert fresh.verify_commit("BLR", sha).status == "good"
    blobs = BlobStore(data / "blobs")
    identity = keys.current("BLR").encryption_key
    for attachment_id, blob_sha, commit in attachments:
        assert commit in history
        record = get_attachment(fresh, "BLR", "law", attachment_id)
        assert record.sha256 == blob_sha
        assert blobs.verify_hash(blob_sha)
        assert blobs.decrypt_to(blob_sha, io.BytesIO(), [identity]) == record.size
    fsck = subprocess.run(
        ["git", f"--git-dir={data / 'repos' / 'BLR.git'}", "fsck", "--strict"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    # No half-written blob is visible under its name: only finished ones, all hashing right.
    for path in (data / "blobs").glob("??/*.age"):
        assert blobs.verify_hash(path.name.removesuffix(".age"))
