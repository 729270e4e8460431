"""Health, the caller, the parties and the public keys that verify every signature."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from server.auth import current_token
from server.db import db_session
from server.schemas import MeSchema, PartySchema
from server.services.context import services
from server.services.signers import allowed_signers_text
from server.services.users import list_parties, me_payload

blp = Blueprint("meta", __name__, url_prefix="/api/v1", description="Service and identity")


@blp.route("/healthz")
@blp.response(200)
def healthz() -> dict[str, Any]:
    """Answer when the database and data directory are reachable."""
    db_session().execute(text("SELECT 1"))
    return {"status": "ok", "repositories": services().config.repos_dir.is_dir()}


@blp.route("/me")
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    """The caller: email, memberships and (for cookie sessions) the CSRF token."""
    csrf_token = None if current_token() is not None else generate_csrf()
    return me_payload(current_user, csrf_token)


@blp.route("/parties")
@blp.response(200, PartySchema(many=True))
def parties() -> list[Any]:
    """Every party of this deployment."""
    return list_parties()


@blp.route("/allowed_signers")
@blp.response(200, content_type="text/plain")
def allowed_signers() -> Response:
    """Every signing key: parties (git, ssh-keygen) and the deployment (audit checkpoints),
    each with only the namespaces it signs in."""
    return Response(allowed_signers_text(), mimetype="text/plain")
