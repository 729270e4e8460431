"""Versions and approvals signed on the delegate's machine: the two steps, and every refusal."""

from __future__ import annotations

import base64
import http.client
import json
import random
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_ssh_private_key
from flask import Flask
from sqlalchemy import update

from clients.git_tree import blob_id, tree_id
from keys import sshsig
from keys.protocol import APPROVAL_NAMESPACE, GIT_NAMESPACE, principal
from keys.ssh_signatures import SigningKey
from server.config import Config
from server.db import db_session
from server.models import Custody, Party, SigningRequest, utcnow
from server.services.signing_requests import MAX_OPEN_PER_USER
from tests.server.review_fixtures import LAW_V1, LAW_V2, ReviewWorld
from tests.server.test_bad_input import snapshot
from tests.server.test_signin import race, served
from tests.support.api import Api, token_for
from tests.support.signatures import git_verify_commit, ssh_keygen_verify
from tests.support.ssh_user_keys import fingerprint_of, new_key, public_line, ssh_sign

DOC = "/api/v1/parties/BLR/documents/export-law"
REQUESTS = f"{DOC}/versions/requests"


def register(api: Api, tmp_path: Path, name: str, key_type: str = "ed25519") -> Path:
    """A fresh key pair made by ssh-keygen, registered by the API's user."""
    private = new_key(tmp_path, name, key_type)
    response = api.post("/api/v1/me/keys", json={"public_key": public_line(private)})
    assert response.status_code == 201, response.json
    return private


def loaded(private: Path) -> SigningKey:
    key = load_ssh_private_key(private.read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def sign_file(private: Path, payload: str, namespace: str = GIT_NAMESPACE) -> str:
    """What a delegate's machine does: `ssh-keygen -Y sign` over the payload's bytes."""
    return ssh_sign(private, namespace, payload.encode()).read_text()


def ask(api: Api, content: str, base: str | None = None, url: str = REQUESTS) -> Any:
    body: dict[str, Any] = {"content": content, "message": "Первая редакция"}
    if base:
        body["base"] = base
    return api.post(url, json=body)


def head(app: Flask) -> str | None:
    with app.app_context():
        store = app.extensions["peerlex.services"].store
        found: str | None = store.head("BLR", "export-law")
        return found


def test_a_version_signed_on_the_client_verifies_with_stock_git(
    app: Flask, world: dict[str, Api], tmp_path: Path
) -> None:
    private = register(world["own"], tmp_path, "delegate")
    asked = ask(world["own"], LAW_V1)
    assert asked.status_code == 201, asked.json
    request = asked.json
    assert set(request) == {"id", "payload", "expires_at", "tree", "files"}
    # The listing of the commit's files makes the tree its payload names: a signer can check it.
    assert request["payload"].split("\n")[0] == f"tree {tree_id(request['tree'])}"
    assert request["tree"]["documents/export-law.md"] == blob_id(LAW_V1.encode())
    assert len(base64.urlsafe_b64decode(request["id"] + "=")) >= 16
    assert "gpgsig" not in request["payload"]
    assert request["payload"].startswith("tree ")
    assert head(app) is None  # nothing written before the signature

    signed = world["own"].post(
        f"{REQUESTS}/{request['id']}", json={"signature": sign_file(private, request["payload"])}
    )
    assert signed.status_code == 201, signed.json
    sha = signed.json["version"]["commit"]
    assert head(app) == sha
    repo = app.extensions["peerlex.config"].repos_dir / "BLR.git"
    raw = subprocess.run(
        ["git", f"--git-dir={repo}", "cat-file", "commit", sha], capture_output=True, check=True
    ).stdout
    # The commit is the payload the delegate signed, with the signature in its gpgsig header.
    without_signature = b"".join(
        line for line in raw.splitlines(keepends=True) if not line.startswith((b"gpgsig ", b" "))
    )
    assert without_signature == request["payload"].encode()
    signers = tmp_path / "allowed_signers"
    signers.write_text(world["own"].get("/api/v1/allowed_signers").data.decode())
    checked = git_verify_commit(repo, signers, sha)
    assert checked.returncode == 0, checked.stderr
    # It names the delegate's own key.
    assert principal("BLR") in checked.stderr
    assert fingerprint_of(private) in checked.stderr

    signature = world["own"].get(f"{DOC}/versions").json[0]["signature"]
    assert signature == {
        "status": "good",
        "fingerprint": fingerprint_of(private),
        "party": "BLR",
        "signer": "expert@blr.example",
        "held_by_server": False,
    }
    # Used once: the same answer again finds no request.
    again = world["own"].post(
        f"{REQUESTS}/{request['id']}", json={"signature": sign_file(private, request["payload"])}
    )
    assert again.status_code == 404


def test_an_update_names_its_base_and_a_moved_head_is_409(
    app: Flask, world: dict[str, Api], tmp_path: Path, put_doc: Any
) -> None:
    private = register(world["own"], tmp_path, "delegate")
    v1 = put_doc(LAW_V1).json["version"]["commit"]
    assert ask(world["own"], LAW_V2).status_code == 409  # base required on an existing document
    request = ask(world["own"], LAW_V2, base=v1).json
    moved = put_doc(LAW_V1 + "\nСтатья 9.\n", base=v1).json["version"]["commit"]
    before = snapshot(app)
    late = world["own"].post(
        f"{REQUESTS}/{request['id']}", json={"signature": sign_file(private, request["payload"])}
    )
    assert late.status_code == 409
    assert late.json["head"] == moved
    refs, objects, _ = before
    assert snapshot(app)[:2] == (refs, objects)


def test_unchanged_content_is_refused(world: dict[str, Api], put_doc: Any) -> None:
    v1 = put_doc(LAW_V1).json["version"]["commit"]
    refused = ask(world["own"], LAW_V1, base=v1)
    assert refused.status_code == 409
    assert refused.json["type"].endswith("unchanged")


def test_refused_signatures_write_nothing(
    app: Flask, world: dict[str, Api], tmp_path: Path
) -> None:
    own = register(world["own"], tmp_path, "delegate")
    other_state = register(world["other"], tmp_path, "kgz")
    unregistered = new_key(tmp_path, "stranger")
    revoked = register(world["own"], tmp_path, "old")
    assert world["own"].delete(f"/api/v1/me/keys/{fingerprint_of(revoked)}").status_code == 200
    request = ask(world["own"], LAW_V1).json
    url = f"{REQUESTS}/{request['id']}"
    payload = request["payload"]
    before = snapshot(app)
    cases = {
        "another State's key": sign_file(other_state, payload),
        "an unregistered key": sign_file(unregistered, payload),
        "a revoked key": sign_file(revoked, payload),
        "another namespace": sign_file(own, payload, APPROVAL_NAMESPACE),
        "other bytes": sign_file(own, payload.replace("Первая", "Вторая")),
    }
    for case, signature in cases.items():
        answer = world["own"].post(url, json={"signature": signature})
        assert answer.status_code == 422, (case, answer.json)
        assert answer.json["type"].endswith("bad-signature"), case
    for body in ({"signature": "not a signature"}, {}, {"signature": own.read_text()}):
        assert world["own"].post(url, json=body).status_code == 422
    assert snapshot(app) == before
    # The request stands after refusals: the right signature is still taken.
    assert world["own"].post(url, json={"signature": sign_file(own, payload)}).status_code == 201


def test_a_request_is_its_requesters_and_bound_to_its_document(
    app: Flask, world: dict[str, Api], tmp_path: Path
) -> None:
    private = register(world["own"], tmp_path, "delegate")
    register(world["head"], tmp_path, "head")
    request = ask(world["own"], LAW_V1).json
    signature = sign_file(private, request["payload"])
    before = snapshot(app)[:2]
    # Replayed by another member of the State, onto another document, or with a made-up id.
    assert (
        world["head"].post(f"{REQUESTS}/{request['id']}", json={"signature": signature}).status_code
        == 404
    )
    other_doc = f"/api/v1/parties/BLR/documents/other-law/versions/requests/{request['id']}"
    assert world["own"].post(other_doc, json={"signature": signature}).status_code == 404
    made_up = "A" * 43
    assert (
        world["own"].post(f"{REQUESTS}/{made_up}", json={"signature": signature}).status_code == 404
    )
    assert (
        world["other"]
        .post(f"{REQUESTS}/{request['id']}", json={"signature": signature})
        .status_code
        == 404
    )
    assert snapshot(app)[:2] == before


def test_a_signature_answers_only_its_own_request(
    app: Flask, world: dict[str, Api], tmp_path: Path
) -> None:
    private = register(world["own"], tmp_path, "delegate")
    first = ask(world["own"], LAW_V1).json
    second = ask(world["own"], LAW_V2).json
    signature = sign_file(private, first["payload"])
    answer = world["own"].post(f"{REQUESTS}/{second['id']}", json={"signature": signature})
    assert answer.status_code == 422
    assert head(app) is None


def test_an_expired_request_is_410_and_writes_nothing(
    app: Flask, world: dict[str, Api], tmp_path: Path
) -> None:
    private = register(world["own"], tmp_path, "delegate")
    request = ask(world["own"], LAW_V1).json
    with app.app_context():
        session = db_session()
        session.execute(update(SigningRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    before = snapshot(app)
    answer = world["own"].post(
        f"{REQUESTS}/{request['id']}", json={"signature": sign_file(private, request["payload"])}
    )
    assert answer.status_code == 410
    assert answer.json["type"].endswith("request-expired")
    assert snapshot(app) == before


def test_the_request_expires_in_five_minutes(world: dict[str, Api], tmp_path: Path) -> None:
    from datetime import datetime

    request = ask(world["own"], LAW_V1).json
    expires = datetime.fromisoformat(request["expires_at"])
    left = expires - datetime.now(expires.tzinfo)
    assert timedelta(minutes=4) < left <= timedelta(minutes=5)


def test_a_self_custody_party_must_sign_on_the_client(
    app: Flask, world: dict[str, Api], put_doc: Any
) -> None:
    with app.app_context():
        session = db_session()
        session.execute(update(Party).where(Party.code == "BLR").values(custody=Custody.SELF))
        session.commit()
    refused = put_doc(LAW_V1)
    assert refused.status_code == 409
    assert refused.json["type"].endswith("signature-required")
    assert "peerlex push --key" in refused.json["detail"]
    assert head(app) is None


def test_a_thousand_single_byte_changes_are_all_refused(
    app: Flask, world: dict[str, Api], tmp_path: Path
) -> None:
    private = register(world["own"], tmp_path, "delegate")
    key = loaded(private)
    request = ask(world["own"], LAW_V1).json
    url = f"{REQUESTS}/{request['id']}"
    payload = request["payload"].encode()
    good = sshsig.sign_with(key, payload, GIT_NAMESPACE)
    envelope = base64.b64decode("".join(good.strip().splitlines()[1:-1]))
    chance = random.Random(1540)
    before = snapshot(app)
    for _ in range(1000):
        if chance.random() < 0.5:
            # The delegate signs, correctly, bytes one byte off the commit the server built.
            at = chance.randrange(len(payload))
            changed = (
                payload[:at] + bytes([payload[at] ^ chance.randrange(1, 256)]) + payload[at + 1 :]
            )
            signature = sshsig.sign_with(key, changed, GIT_NAMESPACE)
        else:
            # The signature itself, one byte of its SSHSIG blob changed.
            at = chance.randrange(len(envelope))
            blob = (
                envelope[:at]
                + bytes([envelope[at] ^ chance.randrange(1, 256)])
                + envelope[at + 1 :]
            )
            body = base64.b64encode(blob).decode()
            lines = [body[i : i + 70] for i in range(0, len(body), 70)]
            signature = (
                "\n".join(["-----BEGIN SSH SIGNATURE-----", *lines, "-----END SSH SIGNATURE-----"])
                + "\n"
            )
        answer = world["own"].post(url, json={"signature": signature})
        assert answer.status_code == 422, answer.json
    assert snapshot(app) == before
    assert world["own"].post(url, json={"signature": good}).status_code == 201


@pytest.fixture
def agreement(review_world: ReviewWorld, tmp_path: Path) -> tuple[ReviewWorld, str]:
    """BLR's law shared into the review, which is in its agreement state."""
    version = review_world.push(LAW_V1)
    assert review_world.share(version).status_code == 201
    moved = review_world["organiser"].patch(review_world.url(), json={"state": "agreement"})
    assert moved.status_code == 200, moved.json
    return review_world, version


def test_a_head_signs_an_approval_on_the_client(
    agreement: tuple[ReviewWorld, str], tmp_path: Path
) -> None:
    world, version = agreement
    private = register(world["head"], tmp_path, "head")
    expert = register(world["own"], tmp_path, "expert")
    asked = world["head"].post(
        world.url("/approvals/requests"),
        json={"party": "BLR", "slug": "export-law", "version": version},
    )
    assert asked.status_code == 201, asked.json
    request = asked.json
    url = world.url(f"/approvals/requests/{request['id']}")
    # An expert's key does not approve, nor does a head's key in the git namespace.
    for wrong in (
        sign_file(expert, request["payload"], APPROVAL_NAMESPACE),
        sign_file(private, request["payload"]),
    ):
        assert world["head"].post(url, json={"signature": wrong}).status_code == 422
    assert world["head"].get(world.url("/approvals")).json == []
    signature = sign_file(private, request["payload"], APPROVAL_NAMESPACE)
    approved = world["head"].post(url, json={"signature": signature})
    assert approved.status_code == 201, approved.json
    assert approved.json["statement"] == request["payload"]
    signers = tmp_path / "allowed_signers"
    signers.write_text(world["head"].get("/api/v1/allowed_signers").data.decode())
    stored = tmp_path / "approval.sig"
    stored.write_text(approved.json["signature"])
    checked = ssh_keygen_verify(
        signers, principal("BLR"), APPROVAL_NAMESPACE, stored, request["payload"].encode()
    )
    assert checked.returncode == 0, checked.stderr
    # Only heads ask: an expert's request is refused as the API refuses their approval.
    refused = world["own"].post(
        world.url("/approvals/requests"),
        json={"party": "BLR", "slug": "export-law", "version": version},
    )
    assert refused.status_code == 403


def test_racing_answers_in_four_workers_write_once(
    app: Flask, config: Config, world: dict[str, Api], tmp_path: Path
) -> None:
    """Eight answers with the one signature, sent at once to four gunicorn workers: one writes
    the version, the others find the request used, and the document has one new version."""
    private = register(world["own"], tmp_path, "delegate")
    request = ask(world["own"], LAW_V1).json
    signature = sign_file(private, request["payload"])
    token = token_for(app.test_client(), "expert@blr.example")
    body = json.dumps({"signature": signature})

    def answer(port: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(
                "POST",
                f"{REQUESTS}/{request['id']}",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            return connection.getresponse().status
        finally:
            connection.close()

    with served(config) as port:
        statuses = race(8, lambda _: answer(port))
    assert statuses == Counter({201: 1, 404: 7})
    assert len(world["own"].get(f"{DOC}/versions").json) == 1


def test_open_requests_are_bounded_per_user(world: dict[str, Api]) -> None:
    for _ in range(MAX_OPEN_PER_USER):
        assert ask(world["own"], LAW_V1).status_code == 201
    refused = ask(world["own"], LAW_V1)
    assert refused.status_code == 409
    assert refused.json["type"].endswith("too-many-open-requests")
    # Another user of the same State is not held up by them.
    assert ask(world["head"], LAW_V1).status_code == 201
