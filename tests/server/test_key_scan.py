"""No private key of a State that holds its own keys is anywhere in the data directory or the
database, whether it was added so or switched; a custodial party's are found (the scan works)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from keys.age import generate_x25519_identity, identity_string
from keys.master import MasterKey, load_master_key
from tests.server.custody_fixtures import (
    CustodyWorld,
    register_ssh_key,
    shared_history,
    switch_to_self,
)
from tests.server.review_fixtures import LAW_V1
from tests.support.key_scan import private_key_material


def _scan(app: Flask, party: str | None) -> list[str]:
    config = app.extensions["peerlex.config"]
    master: MasterKey = load_master_key(config.master_key_path)
    return private_key_material(config.data_dir, master, config.database_uri, party)


def test_a_state_added_with_self_custody_has_no_private_key_anywhere(
    app: Flask, custody_world: CustodyWorld
) -> None:
    custody_world.register_recipient()
    assert _scan(app, "TKM") == []


def test_a_state_switched_to_self_custody_has_none_left(
    app: Flask, custody_world: CustodyWorld, tmp_path: Path
) -> None:
    shared_history(custody_world)
    register_ssh_key(custody_world, "own", tmp_path)
    assert _scan(app, "BLR") != []
    switch_to_self(app, "BLR", custody_world.recipient, "expert@blr.example")
    assert _scan(app, "BLR") == []


def test_the_scan_finds_a_custodial_partys_keys_and_key_text(
    app: Flask, custody_world: CustodyWorld
) -> None:
    found = _scan(app, "BLR")
    assert "BLR.json: the signing key" in found[0]
    assert any("encryption key" in line for line in found)
    # Key text written anywhere is found too: in a document's git objects, in a database row.
    leaked = identity_string(generate_x25519_identity())
    custody_world.world.push(LAW_V1 + f"\n{leaked}\n")
    label = custody_world["organiser"].post(
        "/api/v1/parties/UNRCPD/recipients",
        json={"recipient": custody_world.recipient, "label": leaked.lower()},
    )
    assert label.status_code == 201, label.json
    found = _scan(app, "TKM")
    assert any("git object" in line for line in found), found
    assert "table offline_recipients, column label" in found
