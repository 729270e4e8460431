"""Signing in and out, and choosing the interface language."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import NotFound, TooManyRequests, Unauthorized

from server.auth import client_address, csrf
from server.db import db_session
from server.models import User
from server.schemas import CredentialsSchema
from server.services.security_keys import security_keys
from server.services.setup import any_user
from server.signin import (
    SecondFactorNeeded,
    authenticate,
    end_session,
    finish_second_step,
    password_step_user,
    recovery_codes_left,
    remember_password_step,
    second_step,
    start_session,
)
from server.web.blueprint import bp, safe_next
from server.web.i18n import LANGUAGE_COOKIE, LANGUAGES

log = logging.getLogger(__name__)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("web.my_reviews"))
    if request.method == "GET":
        return render_template(
            "web/sign_in.html", next_url=next_url, error=None, email="", first_start=not any_user()
        )
    # The page is public, so the app's check does not run: a forged sign-in is refused here.
    csrf.protect()
    email = request.form.get("email", "")
    given = {"email": email.strip(), "password": request.form.get("password", "")}
    try:
        credentials = CredentialsSchema().load(given)
        user = authenticate(credentials["email"], credentials["password"], client_address())
    except SecondFactorNeeded:
        # The password was right: the factor is asked for on a page of its own, so that the
        # password is typed once even when the code is mistyped.
        waiting = db_session().scalar(select(User).where(User.email == given["email"].lower()))
        if waiting is not None:
            remember_password_step(waiting, next_url)
            return redirect(url_for("web.second_factor"), 303)
        error, status = gettext("Wrong email or password."), 401
    except (ValidationError, Unauthorized):
        error, status = gettext("Wrong email or password."), 401
    except TooManyRequests:
        error, status = gettext("Too many failed sign-ins. Try again later."), 429
    else:
        start_session(user)
        db_session().commit()
        return redirect(next_url or url_for("web.my_reviews"))
    page = render_template("web/sign_in.html", next_url=next_url, error=error, email=email)
    return page, status


@bp.route("/sign-in/second-factor", methods=["GET", "POST"])
def second_factor() -> Any:
    """The second step of a sign-in whose password was right: a code, or a security key."""
    user = password_step_user()
    if user is None:
        return redirect(url_for("web.sign_in"))
    if request.method == "GET":
        return _code_page(user, None)
    csrf.protect()
    try:
        second_step(user, request.form.get("code", "").strip(), client_address())
    except SecondFactorNeeded:
        error, status = gettext("Wrong code, or a code used already."), 401
    except TooManyRequests:
        error, status = gettext("Too many failed sign-ins. Try again later."), 429
    else:
        return _signed_in(user)
    return _code_page(user, error), status


def _code_page(user: User, error: str | None) -> str:
    has_key = bool(security_keys(user))
    return render_template("web/sign_in_code.html", user=user, error=error, security_key=has_key)


def _signed_in(user: User) -> Any:
    """Start the session of a user who passed both steps, and say if recovery codes run low."""
    next_url = finish_second_step(user)
    say_recovery_codes_left()
    return redirect(next_url or url_for("web.my_reviews"))


def say_recovery_codes_left() -> None:
    """After a code was accepted: if it was a recovery code, say how many are left."""
    left = recovery_codes_left()
    if left is not None:
        flash(
            ngettext(
                "You used a recovery code: %(num)d is left.",
                "You used a recovery code: %(num)d are left.",
                left,
            )
        )


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    end_session()
    db_session().commit()
    return redirect(url_for("web.sign_in"))


@bp.route("/language/<code>")
def set_language(code: str) -> Any:
    if code not in LANGUAGES:
        raise NotFound("no such language")
    response = make_response(redirect(safe_next(request.args.get("next")) or url_for("web.home")))
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response
