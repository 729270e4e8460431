"""Your account's security: second factors and recovery codes, enrolling an authenticator app,
and confirming it is you with a code before approving or building a bundle (step-up).

The forms call the same service as the API (server/services/mfa.py); its refusals come back
as the page again with the reason beside the form, and write nothing.
"""

from __future__ import annotations

from typing import Any

import segno
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, TooManyRequests

from server.auth import (
    EnrolmentRequired,
    StepUpRequired,
    client_address,
    current_user_session,
)
from server.db import db_session
from server.errors import status_of
from server.models import ID_MAX, User, utcnow
from server.services import mfa
from server.services.errors import Conflict, Invalid, NotFound
from server.signin import SecondFactorNeeded, counted_code_check, second_step
from server.web.blueprint import bp, safe_next, signed_in_user
from server.web.sign_in_pages import say_recovery_codes_left

# A QR module is this many pixels; with the quiet zone, a code of a usual URI is about 200 px.
QR_SCALE = 5


def _security_page(
    user: User, error: str | None = None, error_for: int | None = None, status: int = 200
) -> Any:
    """The security page; `error` is shown beside the form that was refused (`error_for`: a
    factor's removal, None: adding one)."""
    listed = mfa.list_factors(user)
    page = render_template(
        "web/security.html",
        factors=listed["factors"],
        recovery_codes_left=listed["recovery_codes_left"],
        has_factor=mfa.has_second_factor(user),
        must_enrol=mfa.enrolment_outstanding(user),
        error=error,
        error_for=error_for,
        label=request.form.get("label", "") if error_for is None else "",
    )
    return page, status


@bp.route("/account/security")
def account_security() -> Any:
    return _security_page(signed_in_user())


def qr_code_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code (CSP allows no data: images)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=QR_SCALE, dark="#000", light="#fff", svgclass="qr"
    )
    # segno writes only path data and numbers: nothing of the URI is in the markup as text.
    return Markup(svg)  # noqa: S704  # nosec B704


def secret_in_groups(secret: str) -> str:
    """The base32 secret in groups of four letters, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _enrolment_page(enrolment: mfa.Enrolment, error: str | None = None, status: int = 200) -> Any:
    page = render_template(
        "web/enrol_authenticator.html",
        qr_code=qr_code_svg(enrolment.otpauth_uri),
        secret=secret_in_groups(enrolment.secret),
        error=error,
    )
    return page, status


@bp.route("/account/security/authenticator", methods=["POST"])
def enrol_authenticator() -> Any:
    user = signed_in_user()
    label = request.form.get("label", "").strip()
    try:
        enrolment = mfa.enrol_totp(user, label)
    except Invalid as exc:
        db_session().rollback()
        return _security_page(user, exc.detail, status=status_of(exc))
    return _enrolment_page(enrolment)


@bp.route("/account/security/authenticator/confirm", methods=["POST"])
def confirm_authenticator() -> Any:
    user = signed_in_user()
    try:
        codes = mfa.confirm_totp(user, request.form.get("code", ""))
    except Conflict as exc:
        db_session().rollback()
        return _security_page(user, exc.detail, status=status_of(exc))
    except Invalid as exc:
        db_session().rollback()
        pending = mfa.pending_enrolment(user)
        if pending is None:
            return _security_page(user, exc.detail, status=status_of(exc))
        return _enrolment_page(pending, exc.detail, status=status_of(exc))
    return render_template("web/recovery_codes.html", codes=codes)


@bp.route("/account/security/factors/<int:factor_id>/remove", methods=["POST"])
def remove_factor(factor_id: int) -> Any:
    user = signed_in_user()
    if factor_id > ID_MAX:
        raise NotFound("no such second factor of yours")
    try:
        # Wrong codes count towards the sign-in limits, as they do through the API.
        with counted_code_check(user, client_address()):
            mfa.remove_factor(user, factor_id, request.form.get("code", ""))
    except (Conflict, Invalid) as exc:
        db_session().rollback()
        return _security_page(user, exc.detail, factor_id, status_of(exc))
    except TooManyRequests:
        db_session().rollback()
        too_many = gettext("Too many wrong codes and passwords. Try again later.")
        return _security_page(user, too_many, factor_id, 429)
    flash(gettext("The second factor is removed."))
    return redirect(url_for("web.account_security"), 303)


@bp.errorhandler(EnrolmentRequired)
def _enrol_first(_error: EnrolmentRequired) -> Any:
    """A page of someone who must enrol and has not: the security page, which says why."""
    return redirect(url_for("web.account_security"), 303)


# Confirming it is you (step-up).


def _confirm_page(
    next_url: str | None, reason: str | None = None, error: str | None = None, status: int = 200
) -> Any:
    page = render_template(
        "web/confirm_identity.html",
        next_url=next_url,
        has_factor=mfa.has_second_factor(signed_in_user()),
        reason=reason,
        error=error,
    )
    return page, status


@bp.errorhandler(StepUpRequired)
def _confirm_first(_error: StepUpRequired) -> Any:
    """Approving, building a bundle or an administration act on a sign-in older than 15
    minutes: the confirm form, which comes back to the review or the users page."""
    if (request.endpoint or "").startswith("web.admin_"):
        back: str | None = url_for("web.admin_users")
        reason = gettext(
            "Changing a role, disabling or enabling an account and resetting second factors "
            "need a sign-in of the last 15 minutes. Confirm it is you, then do it again."
        )
        return _confirm_page(back, reason, status=403)
    rid = (request.view_args or {}).get("rid")
    back = url_for("web.review_page", rid=rid) if isinstance(rid, str) else None
    reason = gettext(
        "Approving and building the final bundle need a sign-in of the last 15 minutes. "
        "Confirm it is you, then do it again."
    )
    return _confirm_page(back, reason, status=403)


@bp.route("/account/confirm", methods=["GET", "POST"])
def confirm_identity() -> Any:
    """Give the second factor again, so that this session counts as signed in just now."""
    user = signed_in_user()
    next_url = safe_next(request.args.get("next"))
    if request.method == "GET" or not mfa.has_second_factor(user):
        return _confirm_page(next_url)
    record = current_user_session()
    if record is None:
        raise BadRequest("only a signed-in browser session is confirmed here")
    try:
        second_step(user, request.form.get("code", "").strip(), client_address())
    except SecondFactorNeeded:
        return _confirm_page(
            next_url, error=gettext("Wrong code, or a code used already."), status=401
        )
    except TooManyRequests:
        too_many = gettext("Too many wrong codes and passwords. Try again later.")
        return _confirm_page(next_url, error=too_many, status=429)
    record.verified_at = utcnow()
    db_session().commit()
    say_recovery_codes_left()
    return redirect(next_url or url_for("web.my_reviews"), 303)
