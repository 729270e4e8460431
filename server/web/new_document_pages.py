"""Starting a State's new document from the review page: a file (.docx, .md or .txt) read and
saved exactly as the document page's upload, with the new document's slug, title, kind and
language, and, when asked, its first version shared into the review."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext

from server.models import Review, ReviewState
from server.permissions import find_review, takes_part_as_state
from server.schemas import DOCUMENT_KINDS, LANGUAGE, ShareCreateSchema
from server.services import reviews
from server.services.context import services
from server.services.errors import NotFound
from server.services.parties import find_party
from server.web.authoring_pages import (
    FORM_REFUSALS,
    Upload,
    form_refusal,
    read_file,
    read_message,
    require_author,
    save_upload,
)
from server.web.authoring_text import UploadRefused
from server.web.blueprint import bp, signed_in_user
from server.web.review_pages import show_review

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
FIELDS = ("slug", "title", "kind", "language", "message")


def _checked_metadata(party: str, form: dict[str, str]) -> dict[str, str]:
    """The new document's title, kind and language, refused with a reason; a slug already
    taken is a conflict (409)."""
    slug = form["slug"]
    if not SLUG.fullmatch(slug):
        raise UploadRefused(
            gettext(
                "The short name must be 1 to 63 lower-case Latin letters, digits or hyphens, "
                "starting with a letter or a digit."
            )
        )
    if services().store.current_version(party, slug) is not None:
        raise UploadRefused(
            gettext(
                "%(party)s already has a document named %(slug)s: choose another short name, or "
                "upload a new version on that document's page.",
                party=party,
                slug=slug,
            ),
            status=409,
        )
    title = form["title"]
    if not title or len(title) > 500 or not title.isprintable():
        raise UploadRefused(
            gettext("Give the document a title of one line (500 characters at most).")
        )
    if form["kind"] not in DOCUMENT_KINDS:
        raise UploadRefused(gettext("Choose the kind of document from the list."))
    language = form["language"]
    if len(language) > 35 or not LANGUAGE.fullmatch(language):
        raise UploadRefused(gettext("The language must be a tag such as ru or en."))
    return {"title": title, "kind": form["kind"], "language": language}


def _read_new_document(review: Review, party: str, form: dict[str, str]) -> Upload:
    """Everything the form sent, checked before anything is written."""
    if find_party(party).holds_own_keys:
        raise UploadRefused(
            gettext(
                "%(party)s holds its own keys: the server cannot sign for it. Push the new "
                "document from your machine with your key (peerlex push).",
                party=party,
            ),
            status=409,
        )
    if review.state == ReviewState.CLOSED:
        raise UploadRefused(gettext("The review is closed: it takes no new documents."), 409)
    metadata = _checked_metadata(party, form)
    message = read_message()
    return Upload(None, message, *read_file(), metadata=metadata)


@bp.route("/reviews/<rid>/states/<party>/documents", methods=["POST"])
def new_document(rid: str, party: str) -> Any:
    user = signed_in_user()
    review = find_review(user, rid)
    if not takes_part_as_state(review, party):
        raise NotFound(gettext("No such page."))
    require_author(user, party)
    form = {key: request.form.get(key, "").strip() for key in FIELDS}
    share = request.form.get("share") == "on"
    try:
        upload = _read_new_document(review, party, form)
        version = save_upload(user, party, form["slug"], upload)
    except UploadRefused as exc:
        return _refused(rid, party, form, share, exc.detail, exc.status)
    except FORM_REFUSALS as exc:
        detail, status = form_refusal(exc)
        return _refused(rid, party, form, share, detail, status)
    slug = form["slug"]
    if not share:
        flash(
            gettext(
                "Created %(slug)s (version %(v)s); it is not shared yet.", slug=slug, v=version[:12]
            )
        )
        return redirect(url_for("web.review_page", rid=rid), 303)
    data = ShareCreateSchema().load({"party": party, "slug": slug, "version": version})
    reviews.share_version(user, review.slug, data)
    flash(gettext("Created %(slug)s and shared its version %(v)s.", slug=slug, v=version[:12]))
    return redirect(url_for("web.document_page", rid=rid, party=party, slug=slug), 303)


def _refused(
    rid: str, party: str, form: dict[str, str], share: bool, detail: str, status: int
) -> Any:
    """The review page again, the reason and what was typed beside the State's form."""
    typed = {**form, "party": party, "share": share}
    return show_review(rid, status, new_document_error=detail, new_document_form=typed)
