"""The reviews a user takes part in, and one review's page with what its organisers and heads
do there: move it on, approve, build the bundle."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from keys.protocol import principal
from server.auth import step_up_due
from server.models import User
from server.payloads import (
    approval_payload,
    comment_payload,
    review_payload,
    share_payload,
)
from server.permissions import (
    can_write_for,
    find_review,
    heads_of,
    organiser_party,
    organising_parties,
    takes_part_as_state,
)
from server.schemas import DOCUMENT_KINDS, ApprovalCreateSchema
from server.services import approvals, bundles, comments, documents, reviews
from server.services.bundle_readme import readme_text
from server.services.users import list_parties
from server.web.blueprint import bp, signed_in_user
from server.web.desk import SharedDocument, desk_of


@bp.route("/")
def home() -> Any:
    return redirect(url_for("web.my_reviews"))


@bp.route("/reviews")
def my_reviews() -> str:
    user = signed_in_user()
    return render_template(
        "web/reviews.html",
        reviews=[review_payload(r) for r in reviews.list_reviews(user)],
        may_open=bool(organising_parties(user)),
    )


def _shared_documents(user: User, rid: str) -> dict[tuple[str, str], SharedDocument]:
    found: dict[tuple[str, str], SharedDocument] = {}
    titles: dict[str, dict[str, str]] = {}
    for share in map(share_payload, reviews.list_shares(user, rid)):
        key = (share["party"], share["slug"])
        if key not in found:
            if share["party"] not in titles:
                titles[share["party"]] = {
                    d.doc.slug: d.doc.metadata.get("title") or d.doc.slug
                    for d in documents.list_documents(user, share["party"])
                }
            title = titles[share["party"]].get(share["slug"], share["slug"])
            found[key] = SharedDocument(share["party"], share["slug"], title)
        found[key].versions.append(share)
    return found


@bp.route("/reviews/<rid>")
def review_page(rid: str) -> Any:
    return show_review(rid)


def show_review(rid: str, status: int = 200, **answer: Any) -> Any:
    """The review's page; answer carries what a refused or answered desk form says on it."""
    user = signed_in_user()
    review = find_review(user, rid)
    shared = _shared_documents(user, rid)
    # A thread is open while its first comment is: replies carry no status of their own.
    open_threads = [
        c
        for c in map(comment_payload, comments.list_comments(user, rid, {}))
        if c["parent"] is None and c["status"] == "open"
    ]
    for comment in open_threads:
        key = (comment["party"], comment["slug"])
        if key in shared:
            shared[key].open_comments += 1
    listed = map(approval_payload, approvals.list_approvals(user, rid))
    standing = [a for a in listed if not a["voided"]]
    for approval in standing:
        doc = shared.get((approval["party"], approval["slug"]))
        if doc is not None and approval["version"] == doc.latest:
            doc.approval = approval
    by_state: dict[str, list[SharedDocument]] = defaultdict(list)
    for doc in shared.values():
        by_state[doc.party].append(doc)
    organiser = organiser_party(user, review)
    is_organiser = organiser is not None
    bundle = None
    if is_organiser:
        path = bundles.bundle_path(review)
        if path.exists():
            bundle = {"name": path.name, "size": path.stat().st_size}
    parties = list_parties()
    page = render_template(
        "web/review.html",
        review=review_payload(review),
        names={p.code: p.name for p in parties},
        own_keys={p.code for p in parties if p.holds_own_keys},
        # The States taking part whose experts or heads the user is, who may start documents.
        authors_for=[
            p.code
            for p in parties
            if takes_part_as_state(review, p.code) and can_write_for(user, p.code)
        ],
        document_kinds=DOCUMENT_KINDS,
        by_state=dict(sorted(by_state.items())),
        open_total=len(open_threads),
        approvals=standing,
        missing=approvals.missing_approvals(review) if is_organiser else [],
        is_organiser=is_organiser,
        heads_of=heads_of(user),
        bundle=bundle,
        readme=readme_text(review.slug, organiser) if organiser else "",
        organiser_principal=principal(organiser) if organiser else "",
        step_up_due=step_up_due(user),
        desk=desk_of(user, review, by_state) if is_organiser else [],
        answer=answer,
    )
    return page, status


@bp.route("/reviews/<rid>/approvals", methods=["POST"])
def approve(rid: str) -> Any:
    data = ApprovalCreateSchema().load(
        {key: request.form.get(key, "") for key in ("party", "slug", "version")}
    )
    approvals.approve(signed_in_user(), rid, data)
    flash(gettext("Approved and signed."))
    return redirect(url_for("web.review_page", rid=rid, _anchor="approvals"))
