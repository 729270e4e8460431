"""Forging for a State that holds its own keys: with the whole data directory and the master
key, nothing on the server signs a commit or an approval of it that verifies; a commit signed
by a revoked key or another State's key does not verify as the State's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_ssh_private_key
from flask import Flask

from keys import sshsig
from keys.master import load_master_key
from keys.party_keys import KeyStoreError
from keys.protocol import APPROVAL_NAMESPACE, GIT_NAMESPACE, principal
from keys.statements import canonical_json
from repo_store.commits import Identity
from server.services.approvals import STATEMENT_TYPE
from tests.server.custody_fixtures import CustodyWorld
from tests.server.test_signed_writes import sign_file
from tests.support.key_scan import private_key_material
from tests.support.signatures import git_verify_commit, ssh_keygen_verify
from tests.support.ssh_user_keys import fingerprint_of, new_key, public_line

DOC = "/api/v1/parties/TKM/documents/water-law"
TEXT = "# Water law\n\nArticle 1. Pathogens are kept in registered laboratories.\n"


def push(world: CustodyWorld, key: Path, content: str, base: str | None = None) -> str:
    body = {"content": content, "message": "draft", **({"base": base} if base else {})}
    request = world["self_expert"].post(f"{DOC}/versions/requests", json=body).json
    signature = sign_file(key, request["payload"])
    saved = world["self_expert"].post(
        f"{DOC}/versions/requests/{request['id']}", json={"signature": signature}
    )
    assert saved.status_code == 201, saved.json
    return str(saved.json["version"]["commit"])


def delegate_key(world: CustodyWorld, tmp_path: Path, role: str = "self_expert") -> Path:
    private = new_key(tmp_path, f"{role}-key")
    made = world[role].post("/api/v1/me/keys", json={"public_key": public_line(private)})
    assert made.status_code == 201, made.json
    return private


def server_signing_keys(app: Flask) -> list[Ed25519PrivateKey]:
    """Everything a thief with the data directory and the master key can sign with."""
    keys = app.extensions["peerlex.services"].keys
    found = []
    for party in keys.parties():
        try:
            found += [held.signing_key for held in keys.all_private(party)]
        except KeyStoreError:  # a party whose keys were retired: nothing left to unwrap
            continue
    return found


def forge_commit(app: Flask, signature_of: Callable[[bytes], str], content: str) -> str:
    """Write a TKM commit straight into the repository, signed as signature_of says."""
    store = app.extensions["peerlex.services"].store
    with app.app_context():
        files = store.document_files(
            "TKM", "water-law", content, {}, base=store.current_version("TKM", "water-law")
        )
        assert files is not None
        prepared = store.prepare_commit(
            "TKM",
            "water-law",
            files,
            author=Identity("Expert", "expert@tkm.example"),
            committer_name="Turkmenistan",
            message="forged",
        )
        sha: str = store.write_signed(prepared, signature_of(prepared.payload))
        return sha


def signed_by(key: Ed25519PrivateKey) -> Callable[[bytes], str]:
    """What a forger holding key signs a commit payload with."""
    return lambda payload: sshsig.sign(key, payload, GIT_NAMESPACE)


def published(world: CustodyWorld, tmp_path: Path) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(world["self_expert"].get("/api/v1/allowed_signers").data.decode())
    return path


def status_of(world: CustodyWorld, sha: str) -> str:
    versions = world["self_expert"].get(f"{DOC}/versions").json
    return str(next(v for v in versions if v["commit"] == sha)["signature"]["status"])


def test_nothing_on_the_server_signs_for_a_self_custody_state(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    world = custody_world
    genuine = push(world, delegate_key(world, tmp_path), TEXT)
    config = app.extensions["peerlex.config"]
    master = load_master_key(config.master_key_path)
    assert private_key_material(config.data_dir, master, config.database_uri, "TKM") == []
    held = server_signing_keys(app)
    assert held, "the other parties' keys are there to try"
    signers = published(world, tmp_path)
    assert git_verify_commit(config.repos_dir / "TKM.git", signers, genuine).returncode == 0
    statement = canonical_json(
        {
            "type": STATEMENT_TYPE,
            "review": "ashgabat-2018",
            "party": "TKM",
            "slug": "water-law",
            "commit": genuine,
            "approved_at": "2026-12-03T12:00:00Z",
            "approved_by": "head@tkm.example",
        }
    )
    for number, key in enumerate(held):
        forged = forge_commit(app, signed_by(key), TEXT + f"\n{number}\n")
        checked = git_verify_commit(config.repos_dir / "TKM.git", signers, forged)
        assert checked.returncode != 0 or principal("TKM") not in checked.stderr, checked.stderr
        assert status_of(world, forged) == "bad"
        signature = tmp_path / f"approval-{number}.sig"
        signature.write_text(sshsig.sign(key, statement, APPROVAL_NAMESPACE))
        approval = ssh_keygen_verify(
            signers, principal("TKM"), APPROVAL_NAMESPACE, signature, statement
        )
        assert approval.returncode != 0


def test_a_revoked_key_signs_nothing_new(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    world = custody_world
    stolen = delegate_key(world, tmp_path)
    before = push(world, stolen, TEXT)
    revoked = world["self_expert"].delete(f"/api/v1/me/keys/{fingerprint_of(stolen)}")
    assert revoked.status_code == 200
    # The API refuses it now; a thief with the key and the data directory writes a commit
    # straight into the repository, dated after the revocation.
    asked = world["self_expert"].post(
        f"{DOC}/versions/requests", json={"content": TEXT + "x\n", "message": "m", "base": before}
    )
    assert asked.status_code == 201
    answer = world["self_expert"].post(
        f"{DOC}/versions/requests/{asked.json['id']}",
        json={"signature": sign_file(stolen, asked.json["payload"])},
    )
    assert answer.status_code == 422
    key = load_ssh_private_key(stolen.read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    time.sleep(2)  # git's times are whole seconds: the forged commit is after the revocation
    forged = forge_commit(app, signed_by(key), TEXT + "y\n")
    config = app.extensions["peerlex.config"]
    signers = published(world, tmp_path)
    assert git_verify_commit(config.repos_dir / "TKM.git", signers, before).returncode == 0
    checked = git_verify_commit(config.repos_dir / "TKM.git", signers, forged)
    assert checked.returncode != 0, checked.stderr
    assert status_of(world, before) == "good"
    assert status_of(world, forged) == "bad"


def test_another_states_key_does_not_sign_as_this_state(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    world = custody_world
    push(world, delegate_key(world, tmp_path), TEXT)
    foreign = delegate_key(world, tmp_path, "peer")  # a KGZ expert's registered key
    key = load_ssh_private_key(foreign.read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    forged = forge_commit(app, signed_by(key), TEXT + "z\n")
    config = app.extensions["peerlex.config"]
    checked = git_verify_commit(config.repos_dir / "TKM.git", published(world, tmp_path), forged)
    # git finds the key's own principal, KGZ's; peerlex verify refuses a commit of TKM signed
    # by anyone but TKM (clients/verify.py), and the server calls it bad.
    assert principal("TKM") not in checked.stderr
    assert status_of(world, forged) == "bad"
