"""Users' own SSH public keys: register, list and revoke your keys; read a party's history."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from server import schemas_keys as schemas
from server.models import UserKey
from server.services import user_keys

blp = Blueprint("keys", __name__, url_prefix="/api/v1", description="Users' public keys")


@blp.route("/me/keys", methods=["POST"])
@blp.arguments(schemas.UserKeyCreateSchema)
@blp.response(201, schemas.UserKeySchema)
@blp.alt_response(409, description="The key is already registered (by anyone, revoked or not)")
def register_key(data: dict[str, Any]) -> UserKey:
    """Register one of your SSH public keys for your party; it is published at once."""
    return user_keys.register_key(current_user, data)


@blp.route("/me/keys", methods=["GET"])
@blp.response(200, schemas.UserKeyListSchema)
def own_keys() -> dict[str, Any]:
    """Your keys, revoked ones included (with their valid_before)."""
    return {"keys": user_keys.own_keys(current_user)}


# The fingerprint is base64 (`SHA256:…`), which holds `/` and `+`: a path converter takes it whole.
@blp.route("/me/keys/<path:fingerprint>", methods=["DELETE"])
@blp.response(200, schemas.UserKeySchema)
@blp.alt_response(409, description="The key is already revoked")
def revoke_key(fingerprint: str) -> UserKey:
    """Revoke one of your keys: it stops signing now and stays published with valid_before."""
    return user_keys.revoke_key(current_user, fingerprint)


@blp.route("/parties/<party>/keys", methods=["GET"])
@blp.response(200, schemas.PartyKeyListSchema)
def party_keys(party: str) -> dict[str, Any]:
    """The party's public key history: every key its members registered, who and when."""
    return {"keys": user_keys.party_keys(party)}
