"""A review world with a State that holds its own keys (TKM), its people and its age identity."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from keys.age import generate_x25519_identity, recipient_string
from tests.server.review_fixtures import ReviewWorld, seed_review_world
from tests.support.accounts import add_party, add_user
from tests.support.api import Api, token_for

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


@pytest.fixture
def custody_world(app: Flask, client: FlaskClient) -> CustodyWorld:
    return seed_custody_world(app, client)
