"""A writer that commits versions and attachments until it is killed; it logs each ack."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from keys.master import load_master_key
from keys.party_keys import KeyStore
from repo_store.attachments import upload_attachment
from repo_store.blobs import BlobStore
from repo_store.commits import Identity
from repo_store.store import RepoStore

AUTHOR = Identity("Crash Test", "crash@blr.example")


def main(data: Path, round_no: int) -> None:
    keys = KeyStore(data / "keys", load_master_key(data / "master.key", {}))
    store = RepoStore(data / "repos", keys)
    blobs = BlobStore(data / "blobs")
    recipients = {"BLR": keys.encryption_public_key("BLR")}
    acks = os.open(data / "acks.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    n = 0
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        n += 1
        if n % 3 == 0:
            body = os.urandom(200_000 + n)
            record, commit = upload_attachment(
                store,
                blobs,
                "BLR",
                "law",
                io.BytesIO(body),
                name=f"annex-{round_no}-{n}.bin",
                media_type="application/octet-stream",
                recipients=recipients,
                max_bytes=10_000_000,
                author=AUTHOR,
                committer_name="Belarus",
                message="annex",
            )
            line = f"attachment {record.id} {record.sha256} {commit}\n"
        else:
            base = store.current_version("BLR", "law")
            text = f"Статья 1.\n\nРедакция {round_no}.{n}\n"
            sha, _ = store.put_document(
                "BLR",
                "law",
                text,
                {},
                base=base,
                author=AUTHOR,
                committer_name="Belarus",
                message=f"v{round_no}.{n}",
            )
            line = f"version {sha} {round_no}.{n}\n"
        # The write was acknowledged (durable) before this line is logged.
        os.write(acks, line.encode())
        os.fsync(acks)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
