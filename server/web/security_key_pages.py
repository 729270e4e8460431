"""The security keys page: a user's security keys and platform authenticators, adding one
(server/web/static/security-keys.js does the WebAuthn part) and removing one with a code."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from server.auth import client_address
from server.models import ID_MAX
from server.services import mfa
from server.services.errors import Invalid, NotFound
from server.services.security_keys import security_keys
from server.signin import counted_code_check
from server.web.blueprint import bp, signed_in_user


@bp.route("/account/security-keys", endpoint="security_keys")
def security_keys_page() -> Any:
    user = signed_in_user()
    return render_template(
        "web/security_keys.html",
        keys=security_keys(user),
        recovery_codes_left=mfa.recovery_codes_left(user),
    )


@bp.route("/account/security-keys/<int:factor_id>/remove", methods=["POST"])
def remove_security_key(factor_id: int) -> Any:
    """Remove a key, proven with a code of an authenticator app or a recovery code."""
    user = signed_in_user()
    if factor_id > ID_MAX or factor_id not in {key.id for key in security_keys(user)}:
        raise NotFound("no such security key of yours")
    try:
        with counted_code_check(user, client_address()):
            mfa.remove_factor(user, factor_id, request.form.get("code", ""))
    except Invalid as refused:
        if refused.kind != mfa.WRONG_CODE_KIND:
            raise
        flash(gettext("Wrong code, or a code used already."))
    else:
        flash(gettext("The security key was removed."))
    return redirect(url_for("web.security_keys"), 303)
