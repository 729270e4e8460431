"""Log in and out with a session cookie, or get and revoke an API token."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import Unauthorized

from server.auth import client_address, current_token, issue_token
from server.db import db_session
from server.models import User, utcnow
from server.schemas import CredentialsSchema, MeSchema, TokenSchema
from server.services.context import services
from server.services.users import me_payload
from server.signin import (
    authenticate,
    end_every_session,
    end_session,
    recovery_codes_left,
    start_session,
)

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")
WRONG_CREDENTIALS = (
    "Wrong email or password; or the user has a second factor and the code is missing or wrong "
    "(problem type …/mfa-required)"
)
THROTTLED = "Too many failed sign-ins for this email or address: try again later"


def _authenticate(credentials: dict[str, Any]) -> User:
    return authenticate(
        credentials["email"], credentials["password"], client_address(), credentials.get("code")
    )


@blp.route("/login", methods=["POST"])
@blp.arguments(CredentialsSchema)
@blp.response(200, MeSchema)
@blp.alt_response(401, description=WRONG_CREDENTIALS)
@blp.alt_response(429, description=THROTTLED)
def login(credentials: dict[str, Any]) -> dict[str, Any]:
    """Start a cookie session; answers the user and the CSRF token for later writes."""
    user = _authenticate(credentials)
    start_session(user)
    db_session().commit()
    return me_payload(user, generate_csrf())


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout() -> None:
    """End this session (on the server, not only in the cookie), or revoke this API token."""
    record = current_token()
    if record is not None:
        record.revoked_at = utcnow()
    else:
        end_session()
    db_session().commit()


@blp.route("/logout-everywhere", methods=["POST"])
@blp.response(204)
def logout_everywhere() -> None:
    """End every session and revoke every API token of the caller."""
    end_every_session(current_user)
    end_session()
    db_session().commit()


@blp.route("/tokens", methods=["POST"])
@blp.arguments(CredentialsSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, description=WRONG_CREDENTIALS)
@blp.alt_response(429, description=THROTTLED)
def create_token(credentials: dict[str, Any]) -> dict[str, Any]:
    """Exchange email and password for an API token (shown once).

    Once the user has a second factor, `code` is needed too (else 401, type …/mfa-required).
    """
    user = _authenticate(credentials)
    token, record = issue_token(user, services().config.token_ttl_hours)
    db_session().commit()
    answer: dict[str, Any] = {"token": token, "expires_at": record.expires_at}
    left = recovery_codes_left()
    if left is not None:
        answer["recovery_codes_left"] = left
    return answer


@blp.route("/tokens", methods=["DELETE"])
@blp.response(204)
def revoke_token() -> None:
    """Revoke the token that authenticates this request."""
    record = current_token()
    if record is None:
        raise Unauthorized("send the token to revoke as Authorization: Bearer")
    record.revoked_at = utcnow()
    db_session().commit()


__all__ = ["blp", "current_user"]
