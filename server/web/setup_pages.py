"""The first start: the set-up link's page, which creates the deployment's first administrator
(server/services/setup.py does it; this page reads the form and signs the new admin in)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext

from server.auth import csrf
from server.db import db_session
from server.passwords import WeakPassword
from server.services.mfa import enrolment_outstanding
from server.services.setup import SetupLinkUnusable, create_first_admin, usable_setup_link
from server.services.users import AccountRefused
from server.signin import start_session
from server.web.account_forms import account_error, field, link_refused
from server.web.blueprint import bp


def _refused() -> tuple[str, int]:
    return link_refused(
        gettext("This set-up link does not work"),
        gettext(
            "It was used already, it expired (a link is valid for 24 hours), a newer link "
            "replaced it, it was not copied whole, or the deployment has an administrator "
            "already. While there is no administrator, run `peerlex-server setup-link` on the "
            "server for a fresh link; otherwise sign in."
        ),
    )


def _form(token: str, email: str = "", error: str | None = None, status: int = 200) -> Any:
    page = render_template("web/setup.html", token=token, email=email, error=error)
    return page, status


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> Any:
    if request.method == "GET":
        return _form(token) if usable_setup_link(token) is not None else _refused()
    # The page is public, so the app's check does not run: a forged form is refused here.
    csrf.protect()
    email = field(request.form, "email")
    try:
        admin = create_first_admin(
            token, email, field(request.form, "password"), field(request.form, "password2")
        )
    except SetupLinkUnusable:
        return _refused()
    except (AccountRefused, WeakPassword) as exc:
        return _form(token, email, account_error(exc), 400)
    start_session(admin)
    db_session().commit()
    if enrolment_outstanding(admin):
        return redirect(url_for("web.account_security"), 303)
    return redirect(url_for("web.home"), 303)
