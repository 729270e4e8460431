"""Users' own SSH public keys: registered, listed, revoked, audited and published."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func, select

from keys.protocol import principal
from server.db import db_session
from server.models import AuditEntry, UserKey
from tests.bundle_fixtures import agree_and_bundle
from tests.server.review_fixtures import ReviewWorld
from tests.support.api import Api
from tests.support.ssh_user_keys import (
    FINGERPRINT,
    PUBLIC_KEY,
    fingerprint_of,
    new_key,
    public_line,
    ssh_sign,
)

KEYS = "/api/v1/me/keys"
BLR = principal("BLR")
MESSAGE = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nA version of a law\n"


def counts(app: Flask) -> tuple[int, int]:
    """How many keys and audit entries of keys there are."""
    with app.app_context():
        session = db_session()
        keys = session.scalar(select(func.count()).select_from(UserKey)) or 0
        audited = session.scalar(select(func.count()).where(AuditEntry.action.like("key.%")))
        return keys, audited or 0


def verify(
    signers: str,
    tmp_path: Path,
    signature: Path,
    principal: str,
    namespace: str,
    at: datetime | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """`ssh-keygen -Y verify` with the published file, optionally as of a time."""
    path = tmp_path / "allowed_signers"
    path.write_text(signers)
    command = ["ssh-keygen", "-Y", "verify", "-f", str(path), "-I", principal, "-n", namespace]
    command += ["-s", str(signature)]
    if at is not None:
        command.append(f"-Overify-time={at.astimezone(UTC).strftime('%Y%m%d%H%M%S')}Z")
    return subprocess.run(command, input=MESSAGE, capture_output=True, check=False)


def test_register_list_and_revoke(world: dict[str, Api]) -> None:
    made = world["own"].post(KEYS, json={"public_key": PUBLIC_KEY})
    assert made.status_code == 201, made.json
    key = made.json
    assert key["fingerprint"] == FINGERPRINT
    assert key["type"] == "ssh-ed25519"
    assert key["public_key"] == PUBLIC_KEY.rsplit(" ", 2)[0]
    assert key["comment"] == "table key"
    assert (key["party"], key["role"]) == ("BLR", "expert")
    assert key["valid_before"] is None
    assert datetime.fromisoformat(key["valid_after"]).tzinfo is not None
    assert world["own"].get(KEYS).json == {"keys": [key]}
    assert world["head"].get(KEYS).json == {"keys": []}
    # The fingerprint holds `/` and `+`, sent as they are and percent-encoded alike.
    assert "/" in FINGERPRINT
    assert world["head"].delete(f"{KEYS}/{FINGERPRINT}").status_code == 404
    revoked = world["own"].delete(f"{KEYS}/{FINGERPRINT}")
    assert revoked.status_code == 200, revoked.json
    assert revoked.json["valid_before"] is not None
    again = world["own"].delete(f"{KEYS}/{quote(FINGERPRINT, safe='')}")
    assert again.status_code == 409
    assert again.json["type"].endswith("/key-revoked")
    listed = world["own"].get(KEYS).json["keys"]
    assert listed == [revoked.json]


def test_party_history_names_owner_and_role(world: dict[str, Api], tmp_path: Path) -> None:
    head_key = new_key(tmp_path, "head", "ecdsa", "head's card")
    assert world["own"].post(KEYS, json={"public_key": PUBLIC_KEY}).status_code == 201
    assert world["head"].post(KEYS, json={"public_key": public_line(head_key)}).status_code == 201
    for reader in ("own", "other", "organiser", "admin"):
        history = world[reader].get("/api/v1/parties/BLR/keys")
        assert history.status_code == 200
        rows = history.json["keys"]
        assert [(r["owner"], r["role"], r["type"]) for r in rows] == [
            ("expert@blr.example", "expert", "ssh-ed25519"),
            ("head@blr.example", "head", "ecdsa-sha2-nistp256"),
        ]
        assert rows[1]["fingerprint"] == fingerprint_of(head_key)
    assert world["own"].get("/api/v1/parties/KGZ/keys").json == {"keys": []}
    assert world["anonymous"].get("/api/v1/parties/BLR/keys").status_code == 401
    assert world["own"].get("/api/v1/parties/ZZZ/keys").status_code == 404


def test_refusals_write_nothing(app: Flask, world: dict[str, Api]) -> None:
    assert world["own"].post(KEYS, json={"public_key": PUBLIC_KEY}).status_code == 201
    before = counts(app)
    assert before == (1, 1)
    refused = {
        "not a key": 422,
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP== x": 422,
        PUBLIC_KEY.replace("AAAAC3", "AAAAC4"): 422,
        PUBLIC_KEY + "\u202e": 422,
        PUBLIC_KEY + "\x1b[2J": 422,
        PUBLIC_KEY + "x" * 300: 422,
        "": 422,
    }
    for line, status in refused.items():
        answer = world["other"].post(KEYS, json={"public_key": line})
        assert answer.status_code == status, (line, answer.json)
        assert "public_key" in answer.json["errors"], answer.json
    # The same key again, by its owner or by anyone else: one key belongs to one person.
    for who in ("own", "other"):
        again = world[who].post(KEYS, json={"public_key": PUBLIC_KEY})
        assert again.status_code == 409
    assert world["own"].post(KEYS, json={"public_key": PUBLIC_KEY, "x": 1}).status_code == 422
    assert world["own"].post(KEYS, json=["x"]).status_code in (400, 422)
    assert (
        world["own"].post(KEYS, json={"public_key": PUBLIC_KEY, "party": "KGZ"}).status_code == 404
    )
    assert (
        world["own"].post(KEYS, json={"public_key": PUBLIC_KEY, "party": "b/r"}).status_code == 422
    )
    assert world["admin"].post(KEYS, json={"public_key": PUBLIC_KEY}).status_code == 403
    assert world["own"].delete(f"{KEYS}/SHA256:nothing").status_code == 404
    assert counts(app) == before


def test_registration_and_revocation_are_audited(app: Flask, world: dict[str, Api]) -> None:
    world["own"].post(KEYS, json={"public_key": PUBLIC_KEY})
    world["own"].delete(f"{KEYS}/{FINGERPRINT}")
    with app.app_context():
        rows = (
            db_session()
            .execute(
                select(AuditEntry.action, AuditEntry.target, AuditEntry.user_email)
                .where(AuditEntry.outcome == "ok")
                .order_by(AuditEntry.id)
            )
            .all()
        )
    assert [tuple(r) for r in rows if r[0].startswith("key.")] == [
        ("key.add", f"BLR/{FINGERPRINT}", "expert@blr.example"),
        ("key.revoke", f"BLR/{FINGERPRINT}", "expert@blr.example"),
    ]


def test_published_key_verifies_until_revoked(world: dict[str, Api], tmp_path: Path) -> None:
    """A signature by a registered key verifies with the published file, as stock ssh-keygen
    reads it; after revocation, one made later does not, while the earlier one still does."""
    expert, head = new_key(tmp_path, "expert"), new_key(tmp_path, "head")
    made = world["own"].post(KEYS, json={"public_key": public_line(expert)})
    assert made.status_code == 201
    registered = datetime.fromisoformat(made.json["valid_after"])
    assert world["head"].post(KEYS, json={"public_key": public_line(head)}).status_code == 201
    signed = ssh_sign(expert, "git", MESSAGE)
    signers = world["anonymous"].get("/api/v1/allowed_signers").data.decode()
    assert verify(signers, tmp_path, signed, BLR, "git").returncode == 0
    # An expert's key signs versions, not approvals; a head's both.
    approval = ssh_sign(expert, "peerlex-approval", MESSAGE)
    assert verify(signers, tmp_path, approval, BLR, "peerlex-approval").returncode != 0
    by_head = ssh_sign(head, "peerlex-approval", MESSAGE)
    assert verify(signers, tmp_path, by_head, BLR, "peerlex-approval").returncode == 0
    # Another State's principal is not this key's.
    assert verify(signers, tmp_path, signed, principal("KGZ"), "git").returncode != 0
    assert world["own"].delete(f"{KEYS}/{fingerprint_of(expert)}").status_code == 200
    signers = world["anonymous"].get("/api/v1/allowed_signers").data.decode()
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert verify(signers, tmp_path, signed, BLR, "git", later).returncode != 0
    assert "valid-before" in signers
    (line,) = [x for x in signers.splitlines() if public_line(expert).split()[1] in x]
    assert line.startswith(f'{BLR} namespaces="git",valid-after="')
    # Made while the key was valid, the signature still verifies: git checks at the commit's time.
    assert verify(signers, tmp_path, signed, BLR, "git", registered).returncode == 0


@pytest.mark.parametrize("key_type", ["ecdsa", "rsa"])
def test_other_key_types_verify_as_published(
    world: dict[str, Api], tmp_path: Path, key_type: str
) -> None:
    """Keys from smart cards and older setups: published as registered, checked by ssh-keygen."""
    private = new_key(tmp_path, key_type, key_type)
    made = world["head"].post(KEYS, json={"public_key": public_line(private)})
    assert made.status_code == 201, made.json
    assert made.json["fingerprint"] == fingerprint_of(private)
    signers = world["anonymous"].get("/api/v1/allowed_signers").data.decode()
    for namespace in ("git", "peerlex-approval"):
        signed = ssh_sign(private, namespace, MESSAGE)
        assert verify(signers, tmp_path, signed, BLR, namespace).returncode == 0
    refused = ssh_sign(private, "peerlex-bundle", MESSAGE)
    assert verify(signers, tmp_path, refused, BLR, "peerlex-bundle").returncode != 0


def test_the_bundle_carries_its_parties_registered_keys(
    app: Flask, review_world: ReviewWorld, tmp_path: Path
) -> None:
    """The final bundle's allowed_signers holds the keys of its parties, of every type, and
    still verifies offline with the published file as the trusted list."""
    head = new_key(tmp_path, "head")
    card = new_key(tmp_path, "card", "ecdsa")
    outsider = new_key(tmp_path, "outsider")
    for who, key in (("head", head), ("peer_head", card), ("outsider", outsider)):
        made = review_world[who].post(KEYS, json={"public_key": public_line(key)})
        assert made.status_code == 201, made.json
    agreed = agree_and_bundle(app, review_world, tmp_path)
    with tarfile.open(agreed.bundle) as tar:
        member = tar.extractfile("dushanbe-2017/allowed_signers")
        assert member is not None
        in_bundle = member.read().decode()
    assert f'{BLR} namespaces="git,peerlex-approval",valid-after=' in in_bundle
    assert public_line(head).split()[1] in in_bundle
    assert public_line(card).split()[1] in in_bundle
    # UZB takes no part in the review: its keys have no place in the bundle.
    assert public_line(outsider).split()[1] not in in_bundle
    trusted = tmp_path / "trusted_signers"
    trusted.write_bytes(review_world["organiser"].get("/api/v1/allowed_signers").data)
    peerlex = str(Path(sys.executable).parent / "peerlex")
    result = subprocess.run(
        [peerlex, "verify", str(agreed.bundle), "--allowed-signers", str(trusted)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "VERIFIED" in result.stdout
