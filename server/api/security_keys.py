"""Security keys (WebAuthn): enrolling one as a second factor, and signing in with one after
the password step of the web sign-in."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from werkzeug.exceptions import Unauthorized

from server import schemas_security_keys as schemas
from server.auth import client_address, csrf
from server.models import User
from server.services import security_keys
from server.signin import counted_code_check, finish_second_step, password_step_user

blp = Blueprint(
    "security_keys", __name__, url_prefix="/api/v1", description="Security keys (WebAuthn)"
)
SIGN_IN_FIRST = "sign in with your password first (the page /sign-in), then use the key"


@blp.route("/me/mfa/webauthn/begin", methods=["POST"])
@blp.response(200, schemas.PublicKeyOptionsSchema)
def begin_enrolment() -> dict[str, Any]:
    """Options for navigator.credentials.create(): a fresh challenge, your keys excluded."""
    return {"public_key": security_keys.registration_options(current_user)}


@blp.route("/me/mfa/webauthn/finish", methods=["POST"])
@blp.arguments(schemas.SecurityKeyEnrolSchema)
@blp.response(201, schemas.SecurityKeyEnrolledSchema)
@blp.alt_response(409, description="This key is enrolled already")
@blp.alt_response(422, description="The answer does not verify, or its challenge is spent")
def finish_enrolment(data: dict[str, Any]) -> dict[str, Any]:
    """Enrol the key that answered; a first factor comes with ten recovery codes, shown once."""
    factor, codes = security_keys.enrol_security_key(
        current_user, data["credential"], data["label"]
    )
    return {"id": factor.id, "recovery_codes": codes}


def _waiting_user() -> User:
    # Public routes: the app's CSRF check does not run for them, so it runs here.
    csrf.protect()
    user = password_step_user()
    if user is None:
        raise Unauthorized(SIGN_IN_FIRST)
    return user


@blp.route("/auth/webauthn/begin", methods=["POST"])
@blp.response(200, schemas.PublicKeyOptionsSchema)
@blp.alt_response(401, description="No password step is waiting for a second factor")
@blp.alt_response(409, description="The user has no security key")
def begin_sign_in() -> dict[str, Any]:
    """Options for navigator.credentials.get(), for the user whose password was just right."""
    return {"public_key": security_keys.authentication_options(_waiting_user())}


@blp.route("/auth/webauthn/finish", methods=["POST"])
@blp.arguments(schemas.AssertionSchema)
@blp.response(200, schemas.SignedInSchema)
@blp.alt_response(401, description="No password step is waiting for a second factor")
@blp.alt_response(422, description="The answer does not verify, or its challenge is spent")
@blp.alt_response(429, description="Too many failed sign-ins: try again later")
def finish_sign_in(data: dict[str, Any]) -> dict[str, Any]:
    """Sign in with the key's answer: a refused one counts like a wrong password."""
    user = _waiting_user()
    with counted_code_check(user, client_address()):
        security_keys.check_assertion(user, data["credential"])
    return {"next": finish_second_step(user) or url_for("web.my_reviews")}
