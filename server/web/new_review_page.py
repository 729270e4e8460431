"""The page where an organiser opens a review: its slug, title, participating States,
organisers and observers, chosen from the parties that exist. The reviews service decides,
as for `POST /api/v1/reviews`; a refused form is shown again with the reasons."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from marshmallow import ValidationError

from server.errors import status_of
from server.models import PartyKind, User
from server.permissions import organising_parties
from server.schemas import ReviewCreateSchema
from server.services import reviews
from server.services.errors import Conflict, DomainError, NotFound
from server.services.users import list_parties
from server.web.account_forms import field
from server.web.blueprint import bp, signed_in_user

PARTY_LISTS = ("states", "organisers", "observers")
# The schema refuses more codes than this per list; reading one more lets it say so.
MAX_CHOICES = 200


def _opener() -> User:
    """The signed-in user if they open reviews (organisers); else 404: the page is not theirs."""
    user = signed_in_user()
    if not organising_parties(user):
        raise NotFound("no such page")
    return user


def _field_messages(error: ValidationError) -> dict[str, str]:
    """The schema's refusals, one sentence per field in the reader's language."""
    texts = {
        "slug": gettext(
            "The short name is 1 to 63 small Latin letters, digits and hyphens, starting with "
            "a letter or a digit (for example dushanbe-2017)."
        ),
        "title": gettext("Give the review a title of one line, at most 300 characters."),
        "states": gettext("Choose at least one participating State from the list."),
        "organisers": gettext("Choose organisers from the list of organisations."),
        "observers": gettext("Choose observers from the list of organisations."),
    }
    found = error.messages if isinstance(error.messages, dict) else {}
    return {name: texts[name] for name in texts if name in found}


def _service_messages(error: DomainError) -> dict[str, str]:
    """The service's refusal, told against the field it concerns."""
    if isinstance(error, Conflict):
        return {"slug": gettext("A review with this short name exists already.")}
    if error.kind == "reserved-slug":
        return {"slug": gettext("This short name is taken by a page address: choose another.")}
    if error.kind == "invalid-party":
        name = str(error.extra.get("field", "states"))
        party = str(error.extra.get("party", ""))
        if name == "states":
            return {name: gettext("%(party)s is not a State known here.", party=party)}
        return {name: gettext("%(party)s is not an organisation known here.", party=party)}
    if error.kind == "duplicate-party":
        twice = ", ".join(error.extra.get("parties", []))
        return {
            "observers": gettext(
                "A party takes part in one role only: %(parties)s is chosen twice.",
                parties=twice,
            )
        }
    return {"slug": error.detail}


def _page(user: User, form: dict[str, Any], errors: dict[str, str], status: int) -> Any:
    parties = list_parties()
    page = render_template(
        "web/new_review.html",
        states=[p for p in parties if p.kind == PartyKind.STATE],
        organisations=[p for p in parties if p.kind == PartyKind.ORGANISATION],
        opener=organising_parties(user)[0],
        form=form,
        errors=errors,
    )
    return page, status


@bp.route("/reviews/new", methods=["GET", "POST"])
def new_review() -> Any:
    user = _opener()
    if request.method == "GET":
        return _page(user, {name: [] for name in PARTY_LISTS}, {}, 200)
    form: dict[str, Any] = {
        "slug": field(request.form, "slug"),
        "title": field(request.form, "title"),
    }
    for name in PARTY_LISTS:
        form[name] = request.form.getlist(name)[: MAX_CHOICES + 1]
    try:
        data = ReviewCreateSchema().load(form)
    except ValidationError as exc:
        return _page(user, form, _field_messages(exc), 422)
    try:
        review = reviews.create_review(user, data)
    except DomainError as exc:
        return _page(user, form, _service_messages(exc), status_of(exc))
    flash(gettext("The review is open. Invite the delegates of its States below."))
    return redirect(url_for("web.review_page", rid=review.slug, _anchor="desk"), 303)
