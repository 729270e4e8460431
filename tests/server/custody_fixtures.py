"""A review world with a State that holds its own keys (TKM), its people and its age identity."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from keys.age import generate_x25519_identity, recipient_string
from server.cli import main
from tests.server.review_fixtures import LAW_V1, ReviewWorld, seed_review_world
from tests.support.accounts import add_party, add_user
from tests.support.api import Api, server_cli, token_for
from tests.support.ssh_user_keys import new_key, public_line

BLR_DOC = "/api/v1/parties/BLR/documents/export-law"
KGZ_DOC = "/api/v1/parties/KGZ/documents/kgz-law"

# A second review, in which the self-custody State TKM takes part beside BLR and KGZ.
CUSTODY_REVIEW = "ashgabat-2018"
SELF_USERS = {
    "self_expert": ("expert@tkm.example", "expert"),
    "self_head": ("head@tkm.example", "head"),
}


@dataclass
class CustodyWorld:
    """The review world, plus TKM's people and the age identity its delegates keep offline."""

    world: ReviewWorld
    identity: X25519PrivateKey

    def __getitem__(self, role: str) -> Api:
        return self.world[role]

    @property
    def recipient(self) -> str:
        return recipient_string(self.identity.public_key())

    def register_recipient(self) -> None:
        """TKM's expert registers the recipient of the identity its delegates keep."""
        made = self["self_expert"].post(
            "/api/v1/parties/TKM/recipients",
            json={"recipient": self.recipient, "label": "delegation laptop"},
        )
        assert made.status_code == 201, made.json


def seed_custody_world(app: Flask, client: FlaskClient) -> CustodyWorld:
    world = seed_review_world(app, client)
    add_party(app, "TKM", custody="self")
    for name, (email, role) in SELF_USERS.items():
        add_user(app, email, "TKM", role)
        world.apis[name] = Api(client, token_for(client, email))
    created = world["organiser"].post(
        "/api/v1/reviews",
        json={"slug": CUSTODY_REVIEW, "title": "Ashgabat 2018", "states": ["BLR", "KGZ", "TKM"]},
    )
    assert created.status_code == 201, created.json
    return CustodyWorld(world, generate_x25519_identity())


def run(app: Flask, *args: str) -> Any:
    """Run `peerlex-server` on app's data directory."""
    data = str(app.extensions["peerlex.config"].data_dir)
    return server_cli(app).invoke(main, ["--data", data, *args])


def switch_to_self(app: Flask, code: str, recipient: str, by_email: str) -> str:
    """`party set-custody CODE self`, with recipient handed over by by_email; its output."""
    done = run(
        app, "party", "set-custody", code, "self", "--recipient", recipient, "--from", by_email
    )
    assert done.exit_code == 0, done.output
    return str(done.output)


def register_ssh_key(world: ReviewWorld | CustodyWorld, role: str, tmp_path: Path) -> None:
    line = public_line(new_key(tmp_path, f"{role}-key"))
    made = world[role].post("/api/v1/me/keys", json={"public_key": line})
    assert made.status_code == 201, made.json


def attach_file(world: CustodyWorld, role: str, doc: str, body: bytes) -> str:
    made = world[role].post(f"{doc}/attachments", query_string={"name": "a.txt"}, data=body)
    assert made.status_code == 201, made.json
    return str(made.json["id"])


def shared_history(world: CustodyWorld) -> tuple[str, str, str]:
    """BLR's law with an attachment and KGZ's with one, both shared into dushanbe-2017."""
    inner = world.world
    version = inner.push(LAW_V1)
    blr = attach_file(world, "own", BLR_DOC, b"BLR annex")
    assert inner.share(version).status_code == 201
    put = world["peer"].put(KGZ_DOC, json={"content": "# Law\n\nArticle 1.\n", "message": "m"})
    kgz_version = put.json["version"]["commit"]
    kgz = attach_file(world, "peer", KGZ_DOC, b"KGZ annex")
    shared = world["peer"].post(
        inner.url("/shares"), json={"party": "KGZ", "slug": "kgz-law", "version": kgz_version}
    )
    assert shared.status_code == 201, shared.json
    return version, blr, kgz


@pytest.fixture
def custody_world(app: Flask, client: FlaskClient) -> CustodyWorld:
    return seed_custody_world(app, client)
