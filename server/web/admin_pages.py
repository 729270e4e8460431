"""The administration pages' parties: list them with custody and keys, add one, rename one
(server/services/users.py and party_admin.py decide, as for `peerlex-server party`)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from server.models import Custody, PartyKind, User
from server.services.errors import NotFound
from server.services.party_admin import create_party, parties_with_keys, rename_party
from server.services.user_admin import LastAdmin, NoSuchParty, NoSuchUser
from server.services.users import AccountRefused, InvalidAccountField, PartyExists
from server.web.account_forms import field
from server.web.blueprint import bp, signed_in_user

# Which status a refusal of an administration form answers with.
REFUSAL_STATUS: dict[type[AccountRefused], int] = {
    PartyExists: 409,
    LastAdmin: 409,
    NoSuchParty: 400,
    NoSuchUser: 404,
}


def administrator() -> User:
    """The signed-in user, if an administrator; else 404 (these pages are not theirs)."""
    user = signed_in_user()
    if not user.is_admin:
        raise NotFound("no such page")
    return user


def refusal(error: AccountRefused) -> tuple[str, int]:
    """Why an administration form was refused, in the reader's language, and its status."""
    messages = {
        "code": gettext("A party code is 2-16 upper-case letters or digits, e.g. BLR."),
        "name": gettext("A name has 1-200 characters, with no line break or control character."),
        "kind": gettext("A party is a State or an organisation."),
        "custody": gettext("Only a State may hold its own keys; choose who holds them."),
        "role": gettext("This role does not fit this party (or is no role at all)."),
        "party": gettext("Choose the party this person belongs to."),
        "email": gettext("That is not an email address."),
    }
    message: str
    if isinstance(error, InvalidAccountField):
        message = messages.get(error.field, gettext("That cannot be done as asked"))
    elif isinstance(error, PartyExists):
        message = gettext("A party with this code exists already.")
    elif isinstance(error, LastAdmin):
        message = gettext(
            "This is the last enabled administrator: make another person an administrator "
            "first, or no one could administer this deployment."
        )
    elif isinstance(error, NoSuchParty):
        message = gettext("There is no such party.")
    else:
        message = gettext("That cannot be done as asked")
    return message, REFUSAL_STATUS.get(type(error), 400)


def _parties_page(error: str | None = None, form: dict[str, str] | None = None) -> str:
    return render_template(
        "web/admin_parties.html",
        parties=parties_with_keys(),
        kinds=[kind.value for kind in PartyKind],
        custodies=[custody.value for custody in Custody],
        error=error,
        form=form or {},
    )


@bp.route("/admin/parties", methods=["GET", "POST"])
def admin_parties() -> Any:
    admin = administrator()
    if request.method == "GET":
        return _parties_page()
    form = {name: field(request.form, name) for name in ("code", "name", "kind", "custody")}
    try:
        create_party(
            form["code"], form["name"], form["kind"], form["custody"] or Custody.SERVER, admin
        )
    except AccountRefused as exc:
        message, status = refusal(exc)
        return _parties_page(message, form), status
    flash(gettext("Party %(code)s added.", code=form["code"]))
    return redirect(url_for("web.admin_parties"), 303)


@bp.route("/admin/parties/<code>/rename", methods=["POST"])
def admin_rename_party(code: str) -> Any:
    admin = administrator()
    try:
        rename_party(code, field(request.form, "name"), admin)
    except NoSuchParty as exc:
        raise NotFound("no such party") from exc
    except AccountRefused as exc:
        message, status = refusal(exc)
        return _parties_page(message), status
    flash(gettext("Party %(code)s renamed.", code=code))
    return redirect(url_for("web.admin_parties"), 303)
