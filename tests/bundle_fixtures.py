"""A review carried through to its final bundle, for bundle and verification tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.server.review_fixtures import LAW_V1, LAW_V2, LAW_V3, ReviewWorld

ANNEX = "Приложение: перечень товаров двойного назначения\n".encode() * 5000


@dataclass
class Agreed:
    world: ReviewWorld
    bundle: Path
    identity: Path
    app: Flask


def agree_and_bundle(app: Flask, world: ReviewWorld, tmp_path: Path) -> Agreed:
    """Share, approve and bundle: BLR's law (3 versions, 1 attachment) and KGZ's plan."""
    v1 = world.push(LAW_V1)
    world.push(LAW_V2)
    v3 = world.push(LAW_V3)
    attach = world["own"].post(
        "/api/v1/parties/BLR/documents/export-law/attachments",
        query_string={"name": "annex.txt"},
        data=ANNEX,
        content_type="text/plain",
    )
    assert attach.status_code == 201, attach.json
    assert world.share(v1).status_code == 201
    assert world.share(v3).status_code == 201
    plan = world["peer"].put(
        "/api/v1/parties/KGZ/documents/action-plan",
        json={"content": "# План действий\n\nПункт 1.\n", "message": "m"},
    )
    kgz = plan.json["version"]["commit"]
    shared = world["peer"].post(
        world.url("/shares"), json={"party": "KGZ", "slug": "action-plan", "version": kgz}
    )
    assert shared.status_code == 201
    identity = tmp_path / "unrcpd-offline.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = next(
        line.split(": ")[1]
        for line in identity.read_text().splitlines()
        if line.startswith("# public key")
    )
    added = world["organiser"].post(
        "/api/v1/parties/UNRCPD/recipients",
        json={"recipient": recipient, "label": "safe in Vienna"},
    )
    assert added.status_code == 201, added.json
    assert world["organiser"].patch(world.url(), json={"state": "agreement"}).status_code == 200
    for role, party, slug, version in [
        ("head", "BLR", "export-law", v3),
        ("peer_head", "KGZ", "action-plan", kgz),
    ]:
        response = world[role].post(
            world.url("/approvals"), json={"party": party, "slug": slug, "version": version}
        )
        assert response.status_code == 201, response.json
    built = world["organiser"].post(world.url("/bundle"))
    assert built.status_code == 201, built.json
    download = world["organiser"].get(world.url("/bundle"))
    assert download.status_code == 200
    bundle = tmp_path / "dushanbe-2017.tar"
    bundle.write_bytes(download.data)
    download.close()
    return Agreed(world, bundle, identity, app)


@pytest.fixture
def agreed(app: Flask, review_world: ReviewWorld, tmp_path: Path) -> Agreed:
    return agree_and_bundle(app, review_world, tmp_path)
