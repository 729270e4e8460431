"""The administration pages' users: list accounts, change a role, disable and enable, end
sessions, reset second factors (server/services/user_admin.py decides, as for
`peerlex-server user`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from server.models import User
from server.services.errors import NotFound
from server.services.user_admin import (
    NoSuchUser,
    account_rows,
    end_sessions,
    find_user_by_id,
    reset_factors,
    set_enabled,
    set_role,
)
from server.services.users import USER_ROLES, AccountRefused, list_parties
from server.web.account_forms import field
from server.web.admin_pages import administrator, refusal
from server.web.blueprint import bp


def _users_page(error: str | None = None) -> str:
    return render_template(
        "web/admin_users.html",
        rows=account_rows(),
        roles=USER_ROLES,
        parties=list_parties(),
        error=error,
    )


@bp.route("/admin/users")
def admin_users() -> Any:
    administrator()
    return _users_page()


def _act(user_id: int, act: Callable[[User, User], None], done: str) -> Any:
    """Do act(account, administrator); a refusal re-shows the page and writes nothing."""
    admin = administrator()
    try:
        account = find_user_by_id(user_id)
    except NoSuchUser as exc:
        raise NotFound("no such user") from exc
    try:
        act(account, admin)
    except AccountRefused as exc:
        message, status = refusal(exc)
        return _users_page(message), status
    flash(done % {"email": account.email})
    return redirect(url_for("web.admin_users"), 303)


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
def admin_user_role(user_id: int) -> Any:
    role, party = field(request.form, "role"), field(request.form, "party")
    return _act(
        user_id,
        lambda account, admin: set_role(account, role, party or None, admin),
        gettext("The role of %(email)s is changed."),
    )


@bp.route("/admin/users/<int:user_id>/disable", methods=["POST"])
def admin_user_disable(user_id: int) -> Any:
    return _act(
        user_id,
        lambda account, admin: set_enabled(account, False, admin),
        gettext("%(email)s is disabled: their sessions and API tokens have ended."),
    )


@bp.route("/admin/users/<int:user_id>/enable", methods=["POST"])
def admin_user_enable(user_id: int) -> Any:
    return _act(
        user_id,
        lambda account, admin: set_enabled(account, True, admin),
        gettext("%(email)s is enabled: they may sign in again."),
    )


@bp.route("/admin/users/<int:user_id>/end-sessions", methods=["POST"])
def admin_user_end_sessions(user_id: int) -> Any:
    return _act(
        user_id,
        lambda account, admin: end_sessions(account, admin),
        gettext("Every session and API token of %(email)s has ended."),
    )


@bp.route("/admin/users/<int:user_id>/reset-second-factor", methods=["POST"])
def admin_user_reset_factors(user_id: int) -> Any:
    def reset(account: User, admin: User) -> None:
        reset_factors(account, admin, "administration page")

    return _act(
        user_id,
        reset,
        gettext(
            "The second factors of %(email)s are removed and their sessions ended: "
            "they enrol again at their next sign-in."
        ),
    )
