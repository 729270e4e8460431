"""The audit log: who reads it, proofs that verify, denied attempts, checkpoints, tampering."""

from __future__ import annotations

import io
import json
import logging
import tarfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import text

from clients.verify import verify_bundle
from keys import sshsig
from keys.merkle import (
    DEPLOYMENT_PARTY,
    entry_leaf_hash,
    parse_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from keys.protocol import AUDIT_NAMESPACE, principal
from server.api import denied
from server.models import utcnow
from server.services.audit import checkpoints, entries, verify
from tests.bundle_fixtures import Agreed
from tests.server.review_fixtures import LAW_V1, LAW_V2, ReviewWorld
from tests.support.api import Api, server_cli
from tests.support.signatures import ssh_keygen_verify

AUDIT = "/api/v1/audit"


def checkpoint_now(world: ReviewWorld) -> dict[str, Any]:
    made = world["admin"].post(f"{AUDIT}/checkpoint")
    assert made.status_code == 201, made.json
    checkpoint: dict[str, Any] = made.json
    return checkpoint


def all_entries(api: Api, **query: Any) -> list[dict[str, Any]]:
    """Every page of GET /audit, each page's proofs checked against its checkpoint."""
    entries: list[dict[str, Any]] = []
    after = -1
    while True:
        page = api.get(AUDIT, query_string={"after": after, "limit": 3, **query})
        assert page.status_code == 200, page.json
        assert_page_verifies(page.json)
        entries += page.json["entries"]
        if page.json["next_after"] is None:
            return entries
        after = page.json["next_after"]


def assert_checkpoint_signed(checkpoint: dict[str, Any], signers_text: str) -> None:
    statement = checkpoint["statement"].encode()
    size, root, time = parse_checkpoint(statement)
    assert (size, root.hex(), time) == (checkpoint["size"], checkpoint["root"], checkpoint["time"])
    verified = sshsig.verify(checkpoint["signature"], statement, AUDIT_NAMESPACE)
    assert checkpoint["signer"] == principal(DEPLOYMENT_PARTY)
    line = next(
        line for line in signers_text.splitlines() if line.startswith(checkpoint["signer"] + " ")
    )
    assert sshsig.public_key_line(verified.public_key) in line


def assert_page_verifies(page: dict[str, Any]) -> None:
    root, size = bytes.fromhex(page["root"]), page["size"]
    if size == page["checkpoint"]["size"]:
        assert page["root"] == page["checkpoint"]["root"]
    for entry in page["entries"]:
        leaf_hash = entry_leaf_hash(entry["leaf"])
        assert leaf_hash.hex() == entry["leaf_hash"]
        proof = [bytes.fromhex(node) for node in entry["proof"]]
        assert verify_inclusion(leaf_hash, entry["leaf"]["index"], size, proof, root)


def test_entries_verify_against_the_signed_checkpoint(review_world: ReviewWorld) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    world.push(LAW_V2)
    world.share(v1)
    checkpoint = checkpoint_now(world)
    signers = world["anonymous"].get("/api/v1/allowed_signers").get_data(as_text=True)
    assert principal(DEPLOYMENT_PARTY) in signers
    assert_checkpoint_signed(checkpoint, signers)
    assert world["organiser"].get(f"{AUDIT}/checkpoint").json == checkpoint

    page = world["admin"].get(AUDIT).json
    assert page["size"] == checkpoint["size"] == 4
    assert page["checkpoint"] == checkpoint
    assert page["log_size"] == 5  # the checkpoint request itself is the fifth entry
    assert [e["leaf"]["action"] for e in page["entries"]] == [
        "review.create",
        "document.save",
        "document.save",
        "share.create",
    ]
    assert [e["leaf"]["index"] for e in page["entries"]] == [0, 1, 2, 3]
    assert page["entries"][0]["leaf"]["user"] == "organiser@unrcpd.example"
    assert page["entries"][0]["leaf"]["at"].endswith("Z")
    assert_page_verifies(page)

    # A changed leaf or proof no longer verifies against the signed root.
    entry = page["entries"][1]
    forged = {**entry["leaf"], "user": "someone@else.example"}
    proof = [bytes.fromhex(node) for node in entry["proof"]]
    root = bytes.fromhex(checkpoint["root"])
    assert not verify_inclusion(entry_leaf_hash(forged), 1, 4, proof, root)


def test_checkpoint_verifies_with_ssh_keygen(review_world: ReviewWorld, tmp_path: Path) -> None:
    world = review_world
    checkpoint = checkpoint_now(world)
    signers = tmp_path / "allowed_signers"
    signers.write_bytes(world["anonymous"].get("/api/v1/allowed_signers").data)
    (tmp_path / "checkpoint.sig").write_text(checkpoint["signature"])
    result = ssh_keygen_verify(
        signers,
        principal(DEPLOYMENT_PARTY),
        AUDIT_NAMESPACE,
        tmp_path / "checkpoint.sig",
        checkpoint["statement"].encode(),
    )
    assert result.returncode == 0, result.stderr


def test_sizes_and_consistency_proofs(review_world: ReviewWorld) -> None:
    world = review_world
    first = checkpoint_now(world)
    world.push(LAW_V1)
    world.push(LAW_V2)
    second = checkpoint_now(world)
    assert second["size"] == first["size"] + 3
    proof = world["organiser"].get(
        f"{AUDIT}/consistency", query_string={"from": first["size"], "to": second["size"]}
    )
    assert proof.status_code == 200, proof.json
    assert proof.json["from_root"] == first["root"]
    assert proof.json["to_root"] == second["root"]
    assert verify_consistency(
        first["size"],
        second["size"],
        bytes.fromhex(first["root"]),
        bytes.fromhex(second["root"]),
        [bytes.fromhex(node) for node in proof.json["proof"]],
    )
    # The default `to` is the latest checkpoint; a later size is served unsigned, with its root.
    default = world["organiser"].get(f"{AUDIT}/consistency", query_string={"from": 1}).json
    assert default["to"] == second["size"]
    log_size = world["admin"].get(AUDIT).json["log_size"]
    newest = world["admin"].get(AUDIT, query_string={"size": log_size}).json
    assert newest["size"] == log_size
    assert newest["entries"][-1]["leaf"]["action"] == "audit.checkpoint"
    assert_page_verifies(newest)
    for query, status in [
        ({"from": 1, "to": log_size + 5}, 422),
        ({"from": 3, "to": 2}, 422),
        ({"from": -1}, 422),
        ({}, 422),
        ({"from": 1, "extra": 2}, 422),
    ]:
        answer = world["organiser"].get(f"{AUDIT}/consistency", query_string=query)
        assert answer.status_code == status
    too_big = world["admin"].get(AUDIT, query_string={"size": log_size + 100})
    assert too_big.status_code == 422
    assert world["admin"].get(AUDIT, query_string={"limit": 0}).status_code == 422
    assert world["admin"].get(AUDIT, query_string={"limit": 1001}).status_code == 422


def test_organisers_see_their_reviews_and_admins_everything(review_world: ReviewWorld) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    world.share(v1)
    other = world["other_organiser"].post(
        "/api/v1/reviews",
        json={"slug": "vienna-2018", "title": "Vienna 2018", "states": ["BLR", "UZB"]},
    )
    assert other.status_code == 201, other.json
    assert world["outsider"].get(world.url("/shares")).status_code == 404
    checkpoint_now(world)

    everything = all_entries(world["admin"])
    reviews = {r["slug"]: r["id"] for r in world["organiser"].get("/api/v1/reviews").json}
    ours = reviews["dushanbe-2017"]
    assert {e["leaf"]["action"] for e in everything} >= {
        "review.create",
        "document.save",
        "share.create",
    }
    assert {e["leaf"]["review_id"] for e in everything} >= {ours, None}

    organiser = all_entries(world["organiser"])
    assert organiser
    assert {e["leaf"]["review_id"] for e in organiser} == {ours}
    assert [e for e in everything if e["leaf"]["review_id"] == ours] == organiser
    # The outsider's refused look at the review's shares is in the organiser's view.
    assert any(
        e["leaf"]["outcome"] == "denied" and e["leaf"]["user"] == "expert@uzb.example"
        for e in organiser
    )

    theirs = all_entries(world["other_organiser"])
    assert [e["leaf"]["action"] for e in theirs] == ["review.create"]
    assert theirs[0]["leaf"]["target"] == "vienna-2018"

    filtered = all_entries(world["organiser"], review="dushanbe-2017")
    assert filtered == organiser
    assert world["organiser"].get(AUDIT, query_string={"review": "vienna-2018"}).status_code == (
        404
    )
    assert world["organiser"].get(AUDIT, query_string={"review": "nowhere"}).status_code == 404
    assert len(all_entries(world["admin"], review="vienna-2018")) == 1


ROLES = (
    "anonymous",
    "own",
    "head",
    "peer",
    "observer",
    "outsider",
    "organiser",
    "other_organiser",
    "admin",
)
NOT_AUDITORS = ("own", "head", "peer", "observer", "outsider")
# Every audit route x every role -> the expected status. The log's size, roots and checkpoints
# grow with every write and refusal in every review, so they are for organisers and
# administrators only: anyone else could watch the other States' activity through them.
AUDIT_TABLE = [
    ("GET", AUDIT, (401, 403, 403, 403, 403, 403, 200, 200, 200)),
    ("GET", f"{AUDIT}/checkpoint", (401, 403, 403, 403, 403, 403, 200, 200, 200)),
    ("GET", f"{AUDIT}/consistency?from=0", (401, 403, 403, 403, 403, 403, 200, 200, 200)),
    ("GET", f"{AUDIT}/consistency?from=0&to=9999", (401, 403, 403, 403, 403, 403, 422, 422, 422)),
    ("POST", f"{AUDIT}/checkpoint", (401, 403, 403, 403, 403, 403, 403, 403, 201)),
]


@pytest.mark.parametrize(
    ("method", "url", "expected"), AUDIT_TABLE, ids=[f"{m} {u}" for m, u, _ in AUDIT_TABLE]
)
@pytest.mark.parametrize("role", ROLES)
def test_audit_permission_table(
    review_world: ReviewWorld, role: str, method: str, url: str, expected: tuple[int, ...]
) -> None:
    response = review_world[role].request(method, url)
    assert response.status_code == expected[ROLES.index(role)], response.json


@pytest.mark.parametrize("role", NOT_AUDITORS)
def test_others_learn_nothing_of_the_log_growing(review_world: ReviewWorld, role: str) -> None:
    """What anyone but an auditor is answered stays the same while other States write."""
    world = review_world
    urls = [url for method, url, _ in AUDIT_TABLE if method == "GET"]
    urls += ["/api/v1/me", "/api/v1/healthz", "/api/v1/parties", world.url()]

    def answers() -> list[tuple[int, bytes]]:
        return [(r.status_code, r.data) for r in (world[role].get(url) for url in urls)] + [
            (r.status_code, r.data) for r in [world[role].post(f"{AUDIT}/checkpoint")]
        ]

    before = answers()
    world.push(LAW_V1)
    world.push(LAW_V2)
    world["peer"].get("/api/v1/parties/BLR/documents/export-law")  # a refusal, logged
    checkpoint_now(world)
    assert answers() == before


def test_a_denied_read_is_an_audit_entry(review_world: ReviewWorld) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    v2 = world.push(LAW_V2)
    world.share(v1)
    url = "/api/v1/parties/BLR/documents/export-law"
    assert world["peer"].get(url, query_string={"version": v2}).status_code == 404
    assert world["anonymous"].get(url).status_code == 401
    assert world["observer"].post(f"{AUDIT}/checkpoint").status_code == 403
    assert world["peer"].get("/api/v1/no/such/route").status_code == 404
    checkpoint_now(world)

    denied = [e["leaf"] for e in all_entries(world["admin"]) if e["leaf"]["outcome"] == "denied"]
    assert [(d["user"], d["details"]["status"]) for d in denied] == [
        ("expert@kgz.example", 404),
        (None, 401),
        ("observer@goe.example", 403),
    ]
    peer = denied[0]
    assert peer["target"] == url
    assert peer["action"] == "GET documents.get_document"
    assert peer["details"]["query"] == f"version={v2}"
    assert len(peer["request_id"]) == 32


def test_a_failing_audit_never_breaks_the_response(
    review_world: ReviewWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = review_world

    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(denied, "_record_denied", broken)
    with caplog.at_level(logging.ERROR, logger="server.api.denied"):
        response = world["peer"].get("/api/v1/parties/BLR/documents/export-law")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert any("disk full" in (r.exc_text or "") for r in caplog.records)


def test_a_checkpoint_is_made_when_the_newest_is_an_hour_old(
    review_world: ReviewWorld, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = review_world

    def count() -> int:
        with app.app_context():
            from server.db import db_session
            from server.models import AuditCheckpoint

            return db_session().query(AuditCheckpoint).count()

    # The review's creation made the first checkpoint; more writes within the hour make none.
    assert count() == 1
    world.push(LAW_V1)
    assert count() == 1
    later = utcnow() + timedelta(minutes=61)
    monkeypatch.setattr(checkpoints, "utcnow", lambda: later)
    world.push(LAW_V2)
    assert count() == 2
    world["organiser"].get(f"{AUDIT}/checkpoint")
    assert count() == 2
    newest = world["organiser"].get(f"{AUDIT}/checkpoint").json
    assert newest["size"] == 3
    assert newest["time"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


# Tampering, seen by `peerlex-server audit verify`.


def run_cli(app: Flask, *args: str) -> Result:
    from server import cli, cli_audit

    cli_audit.register(cli.main, cli._app)
    data = str(app.extensions["peerlex.config"].data_dir)
    result: Result = server_cli(app).invoke(cli.main, ["--data", data, "audit", *args])
    return result


def sql(app: Flask, query: str, **params: Any) -> None:
    """Change rows behind the application's back, on whichever database it uses."""
    with app.extensions["peerlex.db"].engine.begin() as connection:
        connection.execute(text(query), params)


def audited_world(world: ReviewWorld, tmp_path: Path) -> Path:
    """Eight entries, a checkpoint the client keeps, then more entries and a checkpoint."""
    v1 = world.push(LAW_V1)
    world.push(LAW_V2)
    world.share(v1)
    world["peer"].get(
        "/api/v1/parties/BLR/documents/export-law", query_string={"version": "0" * 40}
    )
    held = tmp_path / "held-checkpoint.json"
    held.write_text(json.dumps(checkpoint_now(world)))
    world.push(LAW_V1 + "\nСтатья 5.\n")
    world.push(LAW_V2 + "\nСтатья 5.\n")
    checkpoint_now(world)
    return held


def test_an_untouched_log_verifies(review_world: ReviewWorld, app: Flask, tmp_path: Path) -> None:
    held = audited_world(review_world, tmp_path)
    result = run_cli(app, "verify", "--checkpoint", str(held))
    assert result.exit_code == 0, result.output
    assert "audit log ok" in result.output
    with app.app_context():
        assert verify.verify_audit_log() == []
    made = run_cli(app, "checkpoint")
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["size"] == review_world["admin"].get(AUDIT).json["log_size"]


def test_an_edited_row_is_named(review_world: ReviewWorld, app: Flask, tmp_path: Path) -> None:
    audited_world(review_world, tmp_path)
    sql(app, "UPDATE audit_log SET user_email = 'nobody@example' WHERE leaf_index = 2")
    result = run_cli(app, "verify")
    assert result.exit_code != 0
    assert "entry 2 (audit row 3): its fields do not hash to its stored leaf hash" in result.output
    assert "checkpoint 2 " in result.output  # its root no longer matches either


def test_an_edited_row_with_a_recomputed_hash_fails_the_checkpoints(
    review_world: ReviewWorld, app: Flask, tmp_path: Path
) -> None:
    audited_world(review_world, tmp_path)
    with app.app_context():
        from server.db import db_session
        from server.models import AuditEntry

        session = db_session()
        row = session.query(AuditEntry).filter_by(leaf_index=1).one()
        row.target = "BLR/other-law"
        fields = entries.leaf_fields(entries._values(row), 1)
        row.leaf_hash = entry_leaf_hash(fields).hex()
        session.commit()
    result = run_cli(app, "verify")
    assert result.exit_code != 0
    assert "entry 1" not in result.output
    assert "the log's first 8 entries have another root hash" in result.output


def test_a_deleted_row_is_named(review_world: ReviewWorld, app: Flask, tmp_path: Path) -> None:
    audited_world(review_world, tmp_path)
    sql(app, "DELETE FROM audit_log WHERE leaf_index = 3")
    result = run_cli(app, "verify")
    assert result.exit_code != 0
    assert "missing entries (deleted?): 3" in result.output


SWAPPED = "at, user_email, action, target, review_id, request_id, outcome, details, leaf_hash"
SELECT_ROW = f"SELECT {SWAPPED} FROM audit_log WHERE leaf_index = :n"  # noqa: S608
UPDATE_ROW = (
    "UPDATE audit_log SET "  # noqa: S608
    + ", ".join(f"{column} = :{column}" for column in SWAPPED.split(", "))
    + " WHERE leaf_index = :n"
)


def test_swapped_rows_are_named(review_world: ReviewWorld, app: Flask, tmp_path: Path) -> None:
    """Two rows trade everything but their place, leaf hashes included: both are named."""
    audited_world(review_world, tmp_path)
    with app.extensions["peerlex.db"].engine.begin() as connection:
        one = connection.execute(text(SELECT_ROW), {"n": 1}).mappings().one()
        four = connection.execute(text(SELECT_ROW), {"n": 4}).mappings().one()
        connection.execute(text(UPDATE_ROW), {**four, "n": 1})
        connection.execute(text(UPDATE_ROW), {**one, "n": 4})
    result = run_cli(app, "verify")
    assert result.exit_code != 0
    assert "entry 1 (audit row 2)" in result.output
    assert "entry 4 (audit row 5)" in result.output
    assert "(edited or moved?)" in result.output


def test_truncation_is_caught_by_a_checkpoint_the_client_kept(
    review_world: ReviewWorld, app: Flask, tmp_path: Path
) -> None:
    held = audited_world(review_world, tmp_path)
    kept = json.loads(held.read_text())
    # Cut the log back below the client's checkpoint, and the server's own checkpoints with it.
    sql(app, "DELETE FROM audit_log WHERE leaf_index >= :n", n=kept["size"] - 2)
    sql(app, "DELETE FROM audit_checkpoints WHERE size > :n", n=kept["size"] - 2)
    alone = run_cli(app, "verify")
    assert alone.exit_code == 0, alone.output  # consistent with itself: only a held head tells
    result = run_cli(app, "verify", "--checkpoint", str(held))
    assert result.exit_code != 0
    assert (
        f"checkpoint {held}: it says the log had {kept['size']} entries; "
        f"it has {kept['size'] - 2} (truncated?)"
    ) in result.output
    # And the server refuses to sign a new head over the shorter log.
    sql(
        app,
        "INSERT INTO audit_checkpoints (size, root_hash, created_at, statement, signature) "
        "VALUES (:size, :root, :at, :statement, :signature)",
        size=kept["size"],
        root=kept["root"],
        at=datetime(2000, 1, 1),
        statement=kept["statement"],
        signature=kept["signature"],
    )
    refused = review_world["admin"].post(f"{AUDIT}/checkpoint")
    assert refused.status_code == 500
    assert refused.json["type"].endswith("audit-log-corrupt")


def test_a_forged_checkpoint_signature_is_named(
    review_world: ReviewWorld, app: Flask, tmp_path: Path
) -> None:
    audited_world(review_world, tmp_path)
    with app.app_context():
        from server.db import db_session
        from server.models import AuditCheckpoint

        session = db_session()
        first = session.query(AuditCheckpoint).order_by(AuditCheckpoint.id).first()
        assert first is not None
        other = session.query(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).first()
        assert other is not None
        assert other.id != first.id
        first.signature = other.signature
        session.commit()
        problems = verify.verify_audit_log()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"checkpoint {first.id} (")
    assert "signature does not verify" in problems[0]


# The final bundle carries the newest checkpoint.


def test_the_bundle_carries_a_signed_checkpoint(agreed: Agreed, tmp_path: Path) -> None:
    with tarfile.open(agreed.bundle) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    root = "dushanbe-2017/"
    manifest = json.loads(files[root + "manifest.json"])
    entry = manifest["audit_checkpoint"]
    statement = files[root + entry["statement"]]
    size, digest, _ = parse_checkpoint(statement)
    assert (size, digest.hex()) == (entry["size"], entry["root"])
    assert principal(DEPLOYMENT_PARTY).encode() in files[root + "allowed_signers"]
    checks = [c for c in verify_bundle(agreed.bundle) if c.name.startswith("audit checkpoint")]
    assert [c.ok for c in checks] == [True]

    # A checkpoint signature that does not verify is named.
    sig = bytearray(files[root + entry["signature"]])
    sig[60] ^= 0x01
    files[root + entry["signature"]] = bytes(sig)
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(tampered, "w") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    failed = [c.line() for c in verify_bundle(tampered) if not c.ok]
    # Its checksum in the signed SHA256SUMS catches it first (tests/clients/test_verify.py
    # checks the signature itself in a re-signed bundle).
    assert any("audit/checkpoint.sig" in line for line in failed), failed
