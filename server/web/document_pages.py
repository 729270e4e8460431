"""A document as shared into a review: one page of its blocks at a time, with comment threads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import (
    render_template,
    request,
)
from flask_babel import gettext
from werkzeug.exceptions import NotFound

from repo_store.diff import parse_blocks
from repo_store.diff.pages import page_starts
from server.models import Review, ReviewState, User
from server.payloads import (
    attachment_payload,
    comment_payload,
    document_payload,
    review_payload,
    version_payload,
)
from server.permissions import (
    can_write_for,
    find_review,
    may_decide_comments,
    takes_part_as_state,
)
from server.schemas import (
    VersionQuerySchema,
)
from server.services import attachments, comments, documents, reviews
from server.services.context import services
from server.services.limits import is_expensive, work_gate
from server.services.parties import find_party
from server.web.blueprint import bp, signed_in_user


@dataclass
class Thread:
    """A root comment with its replies, in order."""

    comment: dict[str, Any]
    replies: list[dict[str, Any]] = field(default_factory=list)


def threads_on(user: User, rid: str, party: str, slug: str, version: str) -> list[Thread]:
    asked = {"party": party, "slug": slug, "version": version}
    listed = [comment_payload(c) for c in comments.list_comments(user, rid, asked)]
    roots: dict[int, Thread] = {}
    parent_of: dict[int, int | None] = {c["id"]: c["parent"] for c in listed}
    for comment in listed:
        if comment["parent"] is None:
            roots[comment["id"]] = Thread(comment)
    for comment in listed:
        root = comment["parent"]
        while root is not None and parent_of.get(root) is not None:
            root = parent_of[root]
        if root is not None and root in roots:
            roots[root].replies.append(comment)
    return list(roots.values())


def by_block(threads: list[Thread]) -> tuple[dict[str, list[Thread]], list[Thread]]:
    placed: dict[str, list[Thread]] = defaultdict(list)
    unplaced = []
    for thread in threads:
        block = thread.comment["anchor"]["block"]
        if block and thread.comment["anchor"]["status"] != "orphaned":
            placed[block].append(thread)
        else:
            unplaced.append(thread)
    return placed, unplaced


def document_in_review(user: User, rid: str, party: str, slug: str) -> tuple[Any, list[str]]:
    """The review and the versions of this document shared into it; 404 when none are."""
    review = find_review(user, rid)
    shared = [
        s.version
        for s in reviews.list_shares(user, rid)
        if s.party.code == party and s.slug == slug
    ]
    if not shared:
        raise NotFound(documents.NOT_FOUND)
    return review, shared


def comment_context(user: User, review: Any, party: str) -> dict[str, Any]:
    return {
        "can_comment": review.state != ReviewState.CLOSED,
        "can_decide": may_decide_comments(user, review, party),
        "user_email": user.email,
    }


def shareable_reviews(user: User, party: str) -> list[Review]:
    """The reviews the State takes part in that still take shares (not closed)."""
    return [
        r
        for r in reviews.list_reviews(user)
        if takes_part_as_state(r, party) and r.state != ReviewState.CLOSED
    ]


def authoring_context(user: User, party: str) -> dict[str, Any]:
    """What the document page offers its State's experts and heads: upload and share."""
    if not can_write_for(user, party):
        return {"can_author": False, "share_into": []}
    return {
        "can_author": True,
        "share_into": [review_payload(r) for r in shareable_reviews(user, party)],
    }


@dataclass(frozen=True)
class Pager:
    """Which page of a long text a page shows, and the numbers of its neighbours."""

    page: int
    pages: int
    first: int  # index of the page's first block
    end: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def page_number() -> int:
    value = request.args.get("page", "1")
    if not value.isdigit() or not 1 <= int(value) <= 1_000_000:
        raise NotFound(gettext("No such page."))
    return int(value)


def _blocks_page(content: str, page: int) -> tuple[list[Any], Pager]:
    """One page of a document's blocks, cut as the diff's pages are (PEERLEX_PAGE_*)."""
    config = services().config
    if is_expensive(content):
        with work_gate().expensive("documents"):
            blocks = parse_blocks(content)
    else:
        blocks = parse_blocks(content)
    starts = page_starts([len(b.text) for b in blocks], config.page_blocks, config.page_chars)
    if page > len(starts):
        raise NotFound(gettext("No such page."))
    bounds = [*starts, len(blocks)]
    first, end = bounds[page - 1], bounds[page]
    return blocks[first:end], Pager(page, len(starts), first, end, len(blocks))


@bp.route("/reviews/<rid>/documents/<party>/<slug>")
def document_page(rid: str, party: str, slug: str) -> str:
    user = signed_in_user()
    review, shared = document_in_review(user, rid, party, slug)
    query = VersionQuerySchema().load({k: v for k, v in request.args.items() if k == "version"})
    doc = document_payload(
        documents.get_document(user, party, slug, query.get("version")), content=True
    )
    version = doc["version"]["commit"]
    threads = threads_on(user, rid, party, slug, version) if version in shared else []
    placed, unplaced = by_block(threads)
    blocks, pager = _blocks_page(doc["content"], page_number())
    return render_template(
        "web/document.html",
        review=review_payload(review),
        doc=doc,
        versions=[version_payload(v) for v in documents.document_versions(user, party, slug)],
        shared=shared,
        blocks=blocks,
        pager=pager,
        placed=placed,
        unplaced=unplaced,
        attachments=[
            attachment_payload(party, slug, r) for r in attachments.list_for(user, party, slug)
        ],
        commentable=version in shared,
        own_keys=find_party(party).holds_own_keys,
        **comment_context(user, review, party),
        **authoring_context(user, party),
    )
