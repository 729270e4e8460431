"""The audit log: entries with inclusion proofs, signed checkpoints and consistency proofs."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE

from server.schemas import (
    AuditCheckpointSchema,
    AuditConsistencyQuerySchema,
    AuditConsistencySchema,
    AuditPageSchema,
    AuditQuerySchema,
)
from server.services.audit import checkpoints, proofs

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log")


@blp.route("", methods=["GET"])
@blp.arguments(AuditQuerySchema, location="query", unknown=RAISE)
@blp.response(200, AuditPageSchema)
def list_entries(query: dict[str, Any]) -> proofs.AuditPage:
    """Entries of the reviews you organise (all, for administrators), with inclusion proofs."""
    return proofs.audit_page(current_user, query)


@blp.route("/checkpoint", methods=["GET"])
@blp.response(200, AuditCheckpointSchema)
def latest_checkpoint() -> checkpoints.SignedCheckpoint:
    """The newest signed checkpoint: tree size, root hash and time (organisers, admins)."""
    return checkpoints.current_checkpoint(current_user)


@blp.route("/checkpoint", methods=["POST"])
@blp.response(201, AuditCheckpointSchema)
def make_checkpoint() -> checkpoints.SignedCheckpoint:
    """Sign a checkpoint of the log as it is now (administrators)."""
    return checkpoints.checkpoint_on_demand(current_user)


@blp.route("/consistency", methods=["GET"])
@blp.arguments(AuditConsistencyQuerySchema, location="query", unknown=RAISE)
@blp.response(200, AuditConsistencySchema)
def consistency(query: dict[str, Any]) -> proofs.Consistency:
    """Proof that the log of `from` entries is a prefix of that of `to` (organisers, admins)."""
    return proofs.consistency(current_user, query)
