"""Attachments of a State that holds its own keys: encrypted on the delegate's machine to the
document's recipients, kept aside until the delegate signs the commit that records them."""

from __future__ import annotations

import io
import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from keys.age import encrypt, identity_string, rewrap_header
from keys.age.x25519 import generate_x25519_identity, parse_recipient, recipient_string
from server.db import db_session
from server.models import Custody, OfflineRecipient, Party, SigningRequest, User, utcnow
from tests.server.review_fixtures import LAW_V1, ReviewWorld
from tests.server.test_bad_input import snapshot
from tests.server.test_signed_writes import register, sign_file
from tests.support.age_tool import AGE

DOC = "/api/v1/parties/BLR/documents/export-law"
ATTACH = f"{DOC}/attachments"
ANNEX = "Приложение: перечень товаров двойного назначения.\n".encode() * 100


class Delegate:
    """BLR's expert on their own machine: an SSH key and an age identity, nothing on the server."""

    def __init__(self, app: Flask, world: ReviewWorld, tmp_path: Path) -> None:
        self.world, self.api = world, world["own"]
        self.key = register(self.api, tmp_path, "delegate")
        self.identity = generate_x25519_identity()
        self.identity_file = tmp_path / "identity.txt"
        self.identity_file.write_text(identity_string(self.identity) + "\n")
        with app.app_context():
            session = db_session()
            party = session.scalar(select(Party).where(Party.code == "BLR"))
            assert party is not None
            party.custody = Custody.SELF
            expert = session.scalar(select(User).where(User.email == "expert@blr.example"))
            assert expert is not None
            recipient = recipient_string(self.identity.public_key())
            session.add(
                OfflineRecipient(party_id=party.id, recipient=recipient, added_by_id=expert.id)
            )
            session.commit()

    def sign(self, request: dict[str, Any]) -> Any:
        url = f"{DOC}/versions/requests/{request['id']}"
        return self.api.post(url, json={"signature": sign_file(self.key, request["payload"])})

    def push(self, content: str, base: str | None = None) -> str:
        body: dict[str, Any] = {"content": content, "message": "draft"}
        if base:
            body["base"] = base
        request = self.api.post(f"{DOC}/versions/requests", json=body).json
        saved = self.sign(request)
        assert saved.status_code in (200, 201), saved.json
        return str(saved.json["version"]["commit"])

    def encrypted(self, data: bytes, recipients: list[str] | None = None) -> bytes:
        wanted = recipients or self.api.get(f"{DOC}/recipients").json["recipients"]
        out = io.BytesIO()
        encrypt(io.BytesIO(data), out, [parse_recipient(r) for r in wanted])
        return out.getvalue()

    def upload(self, body: bytes) -> Any:
        return self.api.post(
            ATTACH,
            query_string={"name": "annex.txt"},
            data=body,
            headers={"X-Media-Type": "text/plain"},
            content_type="application/octet-stream",
        )


@pytest.fixture
def delegate(app: Flask, review_world: ReviewWorld, tmp_path: Path) -> Delegate:
    return Delegate(app, review_world, tmp_path)


def pending_files(app: Flask) -> list[Path]:
    pending = app.extensions["peerlex.config"].blobs_dir / "pending"
    return sorted(pending.iterdir()) if pending.exists() else []


def blob_files(app: Flask) -> list[Path]:
    root = app.extensions["peerlex.config"].blobs_dir
    return sorted(p for p in root.glob("??/*.age"))


def test_an_attachment_exists_once_its_commit_is_signed(
    app: Flask, delegate: Delegate, tmp_path: Path
) -> None:
    delegate.push(LAW_V1)
    recipients = delegate.api.get(f"{DOC}/recipients").json["recipients"]
    assert recipients == [recipient_string(delegate.identity.public_key())]
    body = delegate.encrypted(ANNEX)
    asked = delegate.upload(body)
    assert asked.status_code == 202, asked.json
    assert set(asked.json) == {"id", "payload", "expires_at", "tree", "files"}
    assert delegate.api.get(ATTACH).json == []  # nothing listed before the signature
    assert blob_files(app) == []
    signed = delegate.sign(asked.json)
    assert signed.status_code == 200, signed.json
    (record,) = delegate.api.get(ATTACH).json
    assert record["size"] == len(ANNEX)
    assert record["waiting_for"] == []
    (stored,) = blob_files(app)
    assert stored.read_bytes() == body  # stored as it came
    assert pending_files(app) == []
    opened = subprocess.run(
        [AGE, "-d", "-i", str(delegate.identity_file), str(stored)], capture_output=True, check=True
    )
    assert opened.stdout == ANNEX


@pytest.mark.parametrize(
    "case",
    ["not-age", "two-recipients", "no-payload", "truncated-header", "scrypt"],
)
def test_a_malformed_age_file_is_refused_and_nothing_is_kept(
    app: Flask, delegate: Delegate, case: str
) -> None:
    delegate.push(LAW_V1)
    good = delegate.encrypted(ANNEX)
    other = recipient_string(generate_x25519_identity().public_key())
    mine = recipient_string(delegate.identity.public_key())
    bodies = {
        "not-age": ANNEX,
        "two-recipients": delegate.encrypted(ANNEX, [mine, other]),
        "no-payload": good[: good.index(b"\n---") + 48],
        "truncated-header": good[:40],
        "scrypt": good.replace(b"-> X25519", b"-> scrypt", 1),
    }
    before = snapshot(app)
    refused = delegate.upload(bodies[case])
    assert refused.status_code == 422, refused.json
    assert snapshot(app) == before
    assert pending_files(app) == []


def test_an_unsigned_upload_leaves_no_blob_behind(app: Flask, delegate: Delegate) -> None:
    delegate.push(LAW_V1)
    asked = delegate.upload(delegate.encrypted(ANNEX)).json
    (staged,) = pending_files(app)
    with app.app_context():
        session = db_session()
        session.execute(update(SigningRequest).values(expires_at=utcnow() - timedelta(minutes=2)))
        session.commit()
    old = time.time() - 3600
    os.utime(staged, (old, old))
    assert delegate.sign(asked).status_code == 410
    # The next upload sweeps what an expired request left.
    delegate.upload(delegate.encrypted(b"x"))
    assert staged not in pending_files(app)
    assert blob_files(app) == []
    assert delegate.api.get(ATTACH).json == []


def test_a_share_waits_for_the_owner_to_rewrap(
    app: Flask, delegate: Delegate, review_world: ReviewWorld
) -> None:
    version = delegate.push(LAW_V1)
    delegate.sign(delegate.upload(delegate.encrypted(ANNEX)).json)
    assert review_world.share(version).status_code == 201
    (record,) = delegate.api.get(ATTACH).json
    assert record["waiting_for"] == ["GOE", "KGZ", "TJK", "UNRCPD"]
    # A custodial peer cannot read it until the owner re-wraps it.
    download = f"{ATTACH}/{record['id']}"
    assert review_world["peer"].get(download).status_code == 404
    stored = blob_files(app)[0].read_bytes()
    recipients = delegate.api.get(f"{DOC}/recipients").json["recipients"]
    rewrapped = io.BytesIO()
    rewrap_header(
        io.BytesIO(stored), rewrapped, [delegate.identity], [parse_recipient(r) for r in recipients]
    )
    # A re-wrap that changes the payload is refused.
    changed = bytearray(rewrapped.getvalue())
    changed[-1] ^= 1
    assert delegate.api.post(f"{download}/rewrap", data=bytes(changed)).status_code == 422
    asked = delegate.api.post(f"{download}/rewrap", data=rewrapped.getvalue())
    assert asked.status_code == 202, asked.json
    assert delegate.sign(asked.json).status_code == 200
    (record,) = delegate.api.get(ATTACH).json
    assert record["waiting_for"] == []
    fetched = review_world["peer"].get(download)
    assert fetched.status_code == 200
    assert fetched.data == ANNEX


def test_the_owner_makes_the_copy_for_the_final_bundle(
    app: Flask, delegate: Delegate, review_world: ReviewWorld
) -> None:
    version = delegate.push(LAW_V1)
    delegate.sign(delegate.upload(delegate.encrypted(ANNEX)).json)
    assert review_world.share(version).status_code == 201
    offline = generate_x25519_identity()
    added = review_world["organiser"].post(
        "/api/v1/parties/UNRCPD/recipients",
        json={"recipient": recipient_string(offline.public_key()), "label": "offline"},
    )
    assert added.status_code == 201, added.json
    (record,) = delegate.api.get(ATTACH).json
    copies_url = f"{ATTACH}/{record['id']}/offline-copies"
    (copy,) = delegate.api.get(copies_url).json
    assert copy == {
        "review": review_world.review,
        "recipients": [recipient_string(offline.public_key())],
        "stored": False,
    }
    stored = blob_files(app)[0].read_bytes()

    def rewrapped(recipients: list[str], flip: bool = False) -> bytes:
        out = io.BytesIO()
        rewrap_header(
            io.BytesIO(stored), out, [delegate.identity], [parse_recipient(r) for r in recipients]
        )
        body = bytearray(out.getvalue())
        if flip:
            body[-1] ^= 1
        return bytes(body)

    def good_copy() -> bytes:
        return rewrapped(copy["recipients"])

    query = {"review": review_world.review}
    before = snapshot(app)
    mine = recipient_string(delegate.identity.public_key())
    for bad in (rewrapped([*copy["recipients"], mine]), rewrapped(copy["recipients"], flip=True)):
        assert delegate.api.post(copies_url, query_string=query, data=bad).status_code == 422
    assert snapshot(app) == before
    # A review the document is not shared into is none of the owner's business (the denied
    # request is audited; nothing else is written).
    unknown = {"review": "no-such"}
    assert delegate.api.post(copies_url, query_string=unknown, data=good_copy()).status_code == 404
    assert snapshot(app)[:2] == before[:2]
    assert pending_files(app) == []
    good = good_copy()
    made = delegate.api.post(copies_url, query_string=query, data=good)
    assert made.status_code == 201, made.json
    assert delegate.api.get(copies_url).json[0]["stored"] is True
    copied = next(p for p in blob_files(app) if p.read_bytes() == good)
    identity = Path(str(delegate.identity_file) + ".offline")
    identity.write_text(identity_string(offline) + "\n")
    opened = subprocess.run(
        [AGE, "-d", "-i", str(identity), str(copied)], capture_output=True, check=True
    )
    assert opened.stdout == ANNEX
