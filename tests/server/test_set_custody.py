"""`peerlex-server party set-custody CODE self`: refused until the State is ready, then its
attachments re-wrapped to its own recipients and the server's copies of its keys destroyed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from keys.age import decrypt, generate_x25519_identity, recipient_string
from keys.party_keys import KeyStoreError
from server.db import db_session
from server.models import AuditEntry, BundleRewrap, OfflineRecipient, Party
from tests.bundle_fixtures import agree_and_bundle
from tests.server.custody_fixtures import (
    BLR_DOC,
    KGZ_DOC,
    CustodyWorld,
    register_ssh_key,
    run,
    shared_history,
    switch_to_self,
)
from tests.support.age_tool import age_decrypt
from tests.support.signatures import git_verify_commit


def _key_file(app: Flask, code: str) -> Path:
    path: Path = app.extensions["peerlex.config"].data_dir / "keys" / f"{code}.json"
    return path


def _custody(app: Flask, code: str) -> str:
    with app.app_context():
        return str(db_session().scalar(select(Party.custody).where(Party.code == code)))


def _audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db_session().scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _opened(world: CustodyWorld, role: str, url: str, identity: Any) -> bytes:
    got = world[role].get(url)
    assert got.status_code == 200, got.data
    assert got.headers["X-Peerlex-Encryption"] == "age"
    out = io.BytesIO()
    decrypt(io.BytesIO(got.data), out, [identity])
    return out.getvalue()


def test_refused_until_keys_and_recipients_are_registered(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    before = _key_file(app, "BLR").read_bytes()
    refused = run(app, "party", "set-custody", "BLR", "self")
    assert refused.exit_code == 1, refused.output
    assert "SSH key" in refused.output
    assert "age recipient" in refused.output
    # A recipient handed over does not stand in for a missing SSH key, and is not kept.
    handed = run(
        app, "party", "set-custody", "BLR", "self",
        "--recipient", custody_world.recipient, "--from", "expert@blr.example",
    )  # fmt: skip
    assert handed.exit_code == 1, handed.output
    assert "SSH key" in handed.output
    register_ssh_key(custody_world, "own", tmp_path)
    no_recipient = run(app, "party", "set-custody", "BLR", "self")
    assert no_recipient.exit_code == 1
    assert "age recipient" in no_recipient.output
    assert "SSH key" not in no_recipient.output
    assert _key_file(app, "BLR").read_bytes() == before
    assert _custody(app, "BLR") == "server"
    assert _audited(app, "party.custody") == []
    with app.app_context():
        assert db_session().scalar(select(OfflineRecipient.id)) is None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--recipient", "age1nonsense", "--from", "expert@blr.example"], "not an age"),
        (["--recipient", "RECIPIENT"], "--from"),
        (["--recipient", "RECIPIENT", "--from", "expert@kgz.example"], "--from"),
    ],
)
def test_a_bad_handover_changes_nothing(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path, args: list[str], says: str
) -> None:
    register_ssh_key(custody_world, "own", tmp_path)
    before = _key_file(app, "BLR").read_bytes()
    args = [custody_world.recipient if a == "RECIPIENT" else a for a in args]
    refused = run(app, "party", "set-custody", "BLR", "self", *args)
    assert refused.exit_code == 1, refused.output
    assert says in refused.output
    assert _key_file(app, "BLR").read_bytes() == before
    assert _custody(app, "BLR") == "server"


def test_an_organisation_and_a_self_custody_state_are_refused(
    app: Flask, custody_world: CustodyWorld
) -> None:
    for code, says in (("UNRCPD", "organisation"), ("TKM", "already"), ("XXX", "no party")):
        refused = run(app, "party", "set-custody", code, "self")
        assert refused.exit_code == 1, refused.output
        assert says in refused.output


def test_switching_keeps_history_and_hands_attachments_over(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    world = custody_world
    version, blr, kgz = shared_history(world)
    register_ssh_key(world, "own", tmp_path)
    done = switch_to_self(app, "BLR", world.recipient, "expert@blr.example")
    assert "2 attachment(s) re-wrapped" in done
    assert _custody(app, "BLR") == "self"
    [audited] = _audited(app, "party.custody")
    assert audited.target == "BLR"
    assert json.loads(audited.details)["rewrapped"] == 2
    # Only public halves are left, and the key store refuses to sign or decrypt for BLR.
    stored = json.loads(_key_file(app, "BLR").read_text())
    assert "wrapped" not in json.dumps(stored)
    assert all(entry["valid_before"] for entry in stored["keys"])
    keys = app.extensions["peerlex.services"].keys
    for use in (keys.current, keys.all_private):
        with pytest.raises(KeyStoreError, match="holds no private key of BLR"):
            use("BLR")
    # BLR's own attachment and KGZ's now open with the identity BLR's delegates keep.
    assert _opened(world, "own", f"{BLR_DOC}/attachments/{blr}", world.identity) == b"BLR annex"
    assert _opened(world, "own", f"{KGZ_DOC}/attachments/{kgz}", world.identity) == b"KGZ annex"
    sealed = world["own"].get(f"{BLR_DOC}/attachments/{blr}").data
    assert age_decrypt(tmp_path, world.identity, sealed).stdout == b"BLR annex"
    # Readers whose keys the server holds still read both.
    assert world["peer"].get(f"{BLR_DOC}/attachments/{blr}").data == b"BLR annex"
    assert world["peer"].get(f"{KGZ_DOC}/attachments/{kgz}").data == b"KGZ annex"
    # Every commit BLR's server key signed, the re-wrap among them, still verifies with git.
    signers = tmp_path / "allowed_signers"
    signers.write_bytes(world["anonymous"].get("/api/v1/allowed_signers").data)
    repo = app.extensions["peerlex.config"].repos_dir / "BLR.git"
    head = app.extensions["peerlex.services"].store.head("BLR", "export-law")
    for sha in (version, head):
        verified = git_verify_commit(repo, signers, sha)
        assert verified.returncode == 0, verified.stderr
    versions = world["own"].get(f"{BLR_DOC}/versions").json
    assert [v["signature"]["status"] for v in versions] == ["good"]


def test_key_commands_refuse_a_self_custody_state(app: Flask, custody_world: CustodyWorld) -> None:
    for args in (["keys", "rotate", "TKM"], ["keys", "export-identity", "TKM", "--yes"]):
        refused = run(app, *args)
        assert refused.exit_code == 1, refused.output
        assert "holds its own keys" in refused.output
    assert run(app, "fsck").exit_code == 0


def test_attachments_of_a_self_custody_owner_wait(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    """KGZ switched first: BLR's switch cannot re-wrap KGZ's attachment, and names it."""
    world = custody_world
    _, blr, kgz = shared_history(world)
    kgz_identity = generate_x25519_identity()
    register_ssh_key(world, "peer", tmp_path)
    kgz_recipient = recipient_string(kgz_identity.public_key())
    switch_to_self(app, "KGZ", kgz_recipient, "expert@kgz.example")
    register_ssh_key(world, "own", tmp_path)
    second = switch_to_self(app, "BLR", world.recipient, "head@blr.example")
    assert "1 attachment(s) re-wrapped" in second
    assert f"waiting for its owner to re-wrap it: KGZ/kgz-law/{kgz}" in second
    assert _opened(world, "peer", f"{KGZ_DOC}/attachments/{kgz}", kgz_identity) == b"KGZ annex"
    assert _opened(world, "own", f"{BLR_DOC}/attachments/{blr}", world.identity) == b"BLR annex"
    assert run(app, "fsck").exit_code == 0


def test_the_bundle_names_attachments_it_cannot_re_wrap(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    """After BLR switched, its attachment goes into a bundle only once it is re-wrapped."""
    world = custody_world
    agree_and_bundle(app, world.world, tmp_path)
    register_ssh_key(world, "own", tmp_path)
    switch_to_self(app, "BLR", world.recipient, "expert@blr.example")
    refused = world["organiser"].post(world.world.url("/bundle"))
    assert refused.status_code == 409, refused.json
    assert refused.json["type"].endswith("attachments-not-rewrapped")
    [waiting] = refused.json["missing"]
    assert (waiting["party"], waiting["slug"]) == ("BLR", "export-law")
    # Once a copy for the offline recipients is recorded, it is taken as it is.
    record = world["own"].get(f"{BLR_DOC}/attachments").json[0]
    with app.app_context():
        session = db_session()
        earlier = session.scalars(select(BundleRewrap)).first()
        assert earlier is not None
        session.add(
            BundleRewrap(
                source_sha256=record["sha256"],
                recipients=earlier.recipients,
                result_sha256=earlier.result_sha256,
            )
        )
        session.commit()
    assert world["organiser"].post(world.world.url("/bundle")).status_code == 201
