"""Invitations on the web: the page where administrators and organisers invite people and
revoke pending invitations, and the invitation link's page, where the invitee sets a password
(server/services/invitations.py decides; these pages read the forms and show the answers)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from server.auth import csrf
from server.db import db_session
from server.errors import status_of
from server.link_models import Invitation
from server.models import User
from server.passwords import WeakPassword
from server.services import invitations
from server.services.context import services
from server.services.errors import Conflict, DomainError, Forbidden, NotFound
from server.services.mfa import enrolment_outstanding
from server.services.users import AccountRefused
from server.signin import start_session
from server.web.account_forms import account_error, field, link_refused
from server.web.blueprint import bp, signed_in_user


@bp.app_context_processor
def _invitations_link() -> dict[str, Any]:
    def may_invite() -> bool:
        return bool(current_user.is_authenticated and invitations.may_invite(current_user))

    return {"may_invite": may_invite}


def _refusal(error: DomainError) -> str:
    """Why an invitation was refused, in the reader's language."""
    errors = error.extra.get("errors") or {}
    message: str
    if isinstance(error, Conflict) and error.kind == "account-exists":
        message = gettext("An account with this email exists already.")
    elif isinstance(error, Conflict):
        message = gettext("An invitation to this email is pending: revoke it first.")
    elif isinstance(error, Forbidden):
        message = gettext(
            "You may not invite to this party or as this role: an organiser invites experts "
            "and heads of delegation of the States in its open reviews."
        )
    elif "email" in errors:
        message = gettext("That is not an email address.")
    elif "party" in errors:
        message = gettext("There is no such party.")
    else:
        message = gettext("This role does not fit this party.")
    return message


def _page(
    user: User,
    *,
    issued: invitations.Issued | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    page = render_template(
        "web/invitations.html",
        pending=invitations.pending_invitations(user),
        parties=invitations.invitable_parties(user),
        roles=invitations.invitable_roles(user),
        issued=issued,
        error=error,
        form=form or {},
    )
    return page, status


def _inviter() -> User:
    """The signed-in user, if they invite anyone; else 404 (the page is not theirs)."""
    user = signed_in_user()
    if not invitations.may_invite(user):
        raise NotFound("no such page")
    return user


def site_url() -> str:
    """The address links name: PEERLEX_PUBLIC_URL, else the one this request came to."""
    return services().config.public_url or request.host_url


@bp.route("/invitations", methods=["GET", "POST"])
def invitations_page() -> Any:
    user = _inviter()
    if request.method == "GET":
        return _page(user)
    form = {name: field(request.form, name) for name in ("email", "party", "role")}
    try:
        issued = invitations.invite(user, form["email"], form["party"], form["role"], site_url())
    except DomainError as exc:
        return _page(user, error=_refusal(exc), form=form, status=status_of(exc))
    return _page(user, issued=issued, status=201)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id: int) -> Any:
    user = _inviter()
    invitations.revoke(user, invitation_id)
    flash(gettext("The invitation is revoked: its link no longer works."))
    return redirect(url_for("web.invitations_page"), 303)


def _invitation_refused() -> tuple[str, int]:
    return link_refused(
        gettext("This invitation link does not work"),
        gettext(
            "It was used already, it expired (an invitation is valid for 7 days), it was "
            "revoked, or it was not copied whole. Ask the person who invited you for a new "
            "invitation; if you have set your password already, sign in."
        ),
    )


def _accept_form(
    invitation: Invitation, token: str, error: str | None = None, status: int = 200
) -> Any:
    page = render_template(
        "web/accept_invitation.html", invitation=invitation, token=token, error=error
    )
    return page, status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    invitation = invitations.usable_invitation(token)
    if invitation is None:
        return _invitation_refused()
    if request.method == "GET":
        return _accept_form(invitation, token)
    # The page is public, so the app's check does not run: a forged form is refused here.
    csrf.protect()
    try:
        user = invitations.accept(
            token, field(request.form, "password"), field(request.form, "password2")
        )
    except invitations.InvitationUnusable:
        return _invitation_refused()
    except (AccountRefused, WeakPassword) as exc:
        return _accept_form(invitation, token, account_error(exc), 400)
    start_session(user)
    db_session().commit()
    if enrolment_outstanding(user):
        return redirect(url_for("web.account_security"), 303)
    return redirect(url_for("web.home"), 303)
