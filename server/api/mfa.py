"""Your second factors: enrol an authenticator app, confirm it, list and remove factors."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from server import schemas_mfa as schemas
from server.auth import client_address
from server.models import ID_MAX
from server.services import mfa
from server.services.errors import NotFound
from server.signin import counted_code_check

blp = Blueprint("mfa", __name__, url_prefix="/api/v1/me/mfa", description="Second factors")


@blp.route("/totp", methods=["POST"])
@blp.arguments(schemas.TotpEnrolSchema)
@blp.response(201, schemas.TotpEnrolmentSchema)
def enrol_totp(data: dict[str, Any]) -> dict[str, Any]:
    """Start enrolling an authenticator app: its secret and otpauth URI, shown once.

    The factor counts once confirmed with a code; a pending one from before is replaced.
    """
    enrolment = mfa.enrol_totp(current_user, data["label"])
    return {
        "id": enrolment.factor.id,
        "secret": enrolment.secret,
        "otpauth_uri": enrolment.otpauth_uri,
    }


@blp.route("/totp/confirm", methods=["POST"])
@blp.arguments(schemas.CodeSchema)
@blp.response(200, schemas.RecoveryCodesSchema)
@blp.alt_response(409, description="No authenticator is waiting to be confirmed")
@blp.alt_response(422, description="The code is wrong, or was used already")
def confirm_totp(data: dict[str, Any]) -> dict[str, Any]:
    """Confirm the pending authenticator with a code; answers ten recovery codes, shown once."""
    return {"recovery_codes": mfa.confirm_totp(current_user, data["code"])}


@blp.route("", methods=["GET"])
@blp.response(200, schemas.FactorListSchema)
def list_factors() -> dict[str, Any]:
    """Your second factors (pending ones too) and how many recovery codes are left."""
    return mfa.list_factors(current_user)


@blp.route("/<int:factor_id>", methods=["DELETE"])
@blp.arguments(schemas.CodeSchema)
@blp.response(204)
@blp.alt_response(404, description="No such second factor of yours")
@blp.alt_response(409, description="The last factor of someone who must hold one")
@blp.alt_response(422, description="The code is wrong, or was used already")
@blp.alt_response(429, description="Too many wrong codes and passwords: try again later")
def remove_factor(data: dict[str, Any], factor_id: int) -> None:
    """Remove one of your factors, with a fresh code (any factor's, or a recovery code)."""
    if factor_id > ID_MAX:
        raise NotFound("no such second factor of yours")
    with counted_code_check(current_user, client_address()):
        mfa.remove_factor(current_user, factor_id, data["code"])
