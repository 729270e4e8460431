"""The organiser's desk forms on a review's page: invite a State's delegates, move the review
to agreement, close it by building the final bundle. The services decide, as for the API and
the command line; these forms read the fields and say on the page why something was refused."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext

from server.errors import status_of
from server.models import ReviewState
from server.permissions import find_review, require_organiser, takes_part_as_state
from server.schemas import ReviewPatchSchema
from server.services import bundles, invitations, reviews
from server.services.errors import Conflict, DomainError, Forbidden
from server.web.account_forms import field
from server.web.blueprint import bp, signed_in_user
from server.web.invitation_pages import site_url
from server.web.review_pages import show_review

ONLY_ORGANISERS = "only the review's organisers invite its delegates"


def _invite_refusal(error: DomainError) -> str:
    """Why the invitation was refused, in the reader's language."""
    errors = error.extra.get("errors") or {}
    message: str
    if isinstance(error, Conflict) and error.kind == "account-exists":
        message = gettext("An account with this email exists already.")
    elif isinstance(error, Conflict):
        message = gettext("An invitation to this email is pending: revoke it first.")
    elif isinstance(error, Forbidden):
        message = gettext(
            "Delegates are invited while the review is open, as experts or heads of delegation."
        )
    elif "email" in errors:
        message = gettext("That is not an email address.")
    else:
        message = gettext("Choose the role from the list: expert or head of delegation.")
    return message


@bp.route("/reviews/<rid>/invitations", methods=["POST"])
def invite_delegate(rid: str) -> Any:
    """Invite a delegate of one of the review's States; the link is shown once, on the page."""
    user = signed_in_user()
    review = find_review(user, rid)
    require_organiser(user, review, ONLY_ORGANISERS)
    form = {name: field(request.form, name) for name in ("email", "party", "role")}
    if not takes_part_as_state(review, form["party"]):
        refusal = gettext("Choose one of the States taking part in this review.")
        return show_review(rid, 422, invite_error=refusal, form=form)
    try:
        issued = invitations.invite(user, form["email"], form["party"], form["role"], site_url())
    except DomainError as exc:
        return show_review(rid, status_of(exc), invite_error=_invite_refusal(exc), form=form)
    return show_review(rid, 201, issued=issued)


@bp.route("/reviews/<rid>/state", methods=["POST"])
def change_state(rid: str) -> Any:
    data = ReviewPatchSchema().load({"state": request.form.get("state", "")})
    try:
        review = reviews.change_state(signed_in_user(), rid, data["state"])
    except Conflict:
        refusal = gettext("The review has moved on already: reload the page to see its state.")
        return show_review(rid, 409, state_error=refusal)
    if review.state == ReviewState.AGREEMENT:
        flash(
            gettext(
                "The review is in agreement: each head of delegation may now approve the final "
                "versions of their State's documents."
            )
        )
    return redirect(url_for("web.review_page", rid=review.slug))


def _bundle_refusal(error: Conflict) -> str:
    """Why the bundle was not built: the approvals still missing, named, or the state."""
    missing = error.extra.get("missing")
    message: str
    if error.kind == "wrong-state":
        message = gettext("The review is still open: move it to agreement first.")
    elif missing:
        named = "; ".join(f"{m['party']} / {m['slug']} ({m['version'][:12]})" for m in missing)
        message = gettext(
            "The bundle was not built: these documents still need their head of delegation's "
            "approval of the last shared version: %(missing)s.",
            missing=named,
        )
    elif missing is not None:
        message = gettext(
            "Nothing was shared and approved in this review: there is no bundle to build."
        )
    else:
        message = error.detail
    return message


@bp.route("/reviews/<rid>/bundle", methods=["POST"])
def build_bundle(rid: str) -> Any:
    user = signed_in_user()
    try:
        built = bundles.build_bundle(user, rid)
    except Conflict as exc:
        return show_review(rid, 409, bundle_error=_bundle_refusal(exc))
    flash(gettext("The final bundle is built. Its SHA-256: %(sha)s", sha=built.sha256))
    review = find_review(user, rid)
    return redirect(url_for("web.review_page", rid=review.slug, _anchor="bundle"))
