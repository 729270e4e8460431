"""Comments on shared versions: made against a quote, threaded, and carried onto later versions."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from repo_store.anchor import Anchor, Reanchored, locate_quote, reanchor
from server.db import db_session
from server.models import (
    ID_MAX,
    AnchorCache,
    Comment,
    Party,
    Review,
    ReviewState,
    Share,
    User,
    utcnow,
)
from server.permissions import find_review, may_edit_comment, may_set_comment_status
from server.services import audit
from server.services.context import services
from server.services.errors import Conflict, Forbidden, Invalid, NotFound

NOT_SHARED = "that version is not shared in this review"


@dataclass(frozen=True)
class AnchoredComment:
    """A comment with where its quote stands on the version asked for."""

    comment: Comment
    anchor: Reanchored
    version: str


def _shared(review: Review, party: str, slug: str, version: str) -> bool:
    query = (
        select(Share.id)
        .join(Share.party)
        .where(
            Share.review_id == review.id,
            Party.code == party,
            Share.slug == slug,
            Share.version == version,
        )
    )
    return db_session().scalar(query) is not None


def _author_party(user: User, review: Review) -> str:
    """The party the user speaks for in this review."""
    for membership in user.memberships:
        if review.role_of(membership.party.code) is not None:
            return membership.party.code
    raise NotFound("no such review, or you do not take part in it")


def _own_anchor(comment: Comment) -> Reanchored:
    return Reanchored("current", comment.block, comment.start, comment.end, comment.quote)


def create_comment(user: User, rid: str, data: dict[str, Any]) -> AnchoredComment:
    """Comment on a quote of a shared version, or reply to a comment of the same review."""
    review = find_review(user, rid)
    if review.state == ReviewState.CLOSED:
        raise Conflict("the review is closed", "review-closed")
    session = db_session()
    comment = Comment(
        review_id=review.id,
        author_id=user.id,
        author_party=_author_party(user, review),
        body=data["body"],
    )
    if data.get("parent") is not None:
        parent = session.get(Comment, data["parent"])
        if parent is None or parent.review_id != review.id:
            raise Invalid(
                "parent is not a comment of this review",
                "invalid-parent",
                errors={"parent": ["not a comment of this review"]},
            )
        root = parent
        while root.parent_id is not None:
            root = session.get(Comment, root.parent_id) or root
        comment.parent_id = parent.id
        for field in (
            "party_id",
            "slug",
            "version",
            "quote",
            "prefix",
            "suffix",
            "block",
            "start",
            "end",
        ):
            setattr(comment, field, getattr(root, field))
    else:
        missing = [f for f in ("party", "slug", "version", "quote") if not data.get(f)]
        if missing:
            raise Invalid(
                "a comment needs party, slug, version and quote",
                "missing-fields",
                errors={f: ["required unless replying to a comment"] for f in missing},
            )
        code, slug, version = data["party"], data["slug"], data["version"]
        if not _shared(review, code, slug, version):
            raise Invalid(NOT_SHARED, "not-shared", errors={"version": [NOT_SHARED]})
        text = services().store.read_document(code, slug, version).content
        anchor = locate_quote(
            text,
            data["quote"],
            prefix=data.get("prefix"),
            suffix=data.get("suffix"),
            block=data.get("block"),
        )
        if anchor is None:
            raise Invalid(
                "the quote does not occur in that version",
                "quote-not-found",
                errors={"quote": ["does not occur in that version"]},
            )
        comment.party_id = session.scalars(select(Party.id).where(Party.code == code)).one()
        comment.slug, comment.version = slug, version
        comment.quote, comment.prefix, comment.suffix = anchor.quote, anchor.prefix, anchor.suffix
        comment.block, comment.start, comment.end = anchor.block, anchor.start, anchor.end
    session.add(comment)
    session.flush()
    audit.record(
        user,
        "comment.create",
        f"comment/{comment.id}",
        review_id=review.id,
        parent=comment.parent_id,
    )
    session.commit()
    session.refresh(comment)
    return AnchoredComment(comment, _own_anchor(comment), comment.version)


def update_comment(user: User, rid: str, comment_id: int, data: dict[str, Any]) -> AnchoredComment:
    """Change a comment's status, or edit one's own comment's body."""
    review = find_review(user, rid)
    comment = db_session().get(Comment, comment_id) if 0 < comment_id <= ID_MAX else None
    if comment is None or comment.review_id != review.id:
        raise NotFound("no such comment in this review")
    if review.state == ReviewState.CLOSED:
        raise Conflict("the review is closed", "review-closed")
    if "body" in data and not may_edit_comment(user, comment.author_id):
        raise Forbidden("only its author edits a comment")
    if "status" in data and not may_set_comment_status(
        user, review, comment.party.code, comment.author_id, data["status"]
    ):
        raise Forbidden("you may not set this comment to that status")
    changes = {key: data[key] for key in ("body", "status") if key in data}
    for key, value in changes.items():
        setattr(comment, key, value)
    comment.updated_at = utcnow()
    audit.record(
        user,
        "comment.update",
        f"comment/{comment.id}",
        review_id=review.id,
        **{k: v for k, v in changes.items() if k == "status"},
    )
    db_session().commit()
    return AnchoredComment(comment, _own_anchor(comment), comment.version)


def _reanchored(roots: list[Comment], party: str, slug: str, version: str) -> dict[int, Reanchored]:
    """Each root comment's anchor on version, from the cache or computed (and then cached)."""
    session = db_session()
    found: dict[int, Reanchored] = {}
    ids = [c.id for c in roots if c.version != version]
    if ids:
        cached = session.scalars(
            select(AnchorCache).where(
                AnchorCache.version == version, AnchorCache.comment_id.in_(ids)
            )
        )
        for row in cached:
            found[row.comment_id] = Reanchored(**json.loads(row.anchor))
    by_version: dict[str, list[Comment]] = defaultdict(list)
    for comment in roots:
        if comment.version == version:
            found[comment.id] = _own_anchor(comment)
        elif comment.id not in found:
            by_version[comment.version].append(comment)
    if not by_version:
        return found
    store = services().store
    new_text = store.read_document(party, slug, version).content
    rows = []
    for old_version, comments in by_version.items():
        old_text = store.read_document(party, slug, old_version).content
        anchors = [Anchor(c.block, c.start, c.end, c.quote, c.prefix, c.suffix) for c in comments]
        for comment, result in zip(comments, reanchor(anchors, old_text, new_text), strict=True):
            found[comment.id] = result
            rows.append(
                {
                    "comment_id": comment.id,
                    "version": version,
                    "anchor": json.dumps(asdict(result), ensure_ascii=False),
                }
            )
    _cache(rows)
    return found


def _cache(rows: list[dict[str, Any]]) -> None:
    """Store computed anchors; a row another worker stored meanwhile is left as it is."""
    session = db_session()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(AnchorCache).values(rows).on_conflict_do_nothing())
    session.commit()


def list_comments(user: User, rid: str, query: dict[str, Any]) -> list[AnchoredComment]:
    """A review's comments, filtered, each anchored on the requested version."""
    review = find_review(user, rid)
    code, slug, version = query.get("party"), query.get("slug"), query.get("version")
    if version is not None and (code is None or slug is None):
        raise Invalid("version needs party and slug", "missing-fields")
    if version is not None and not _shared(review, code or "", slug or "", version):
        raise NotFound(NOT_SHARED)
    select_comments = select(Comment).where(Comment.review_id == review.id)
    if code is not None:
        select_comments = select_comments.join(Comment.party).where(Party.code == code)
    if slug is not None:
        select_comments = select_comments.where(Comment.slug == slug)
    comments = list(db_session().scalars(select_comments.order_by(Comment.id)))
    roots = {c.id: c for c in comments if c.parent_id is None}
    anchors: dict[int, Reanchored] = {}
    if version is not None and code and slug:
        anchors = _reanchored(list(roots.values()), code, slug, version)

    by_id = {c.id: c for c in comments}

    def root_of(comment: Comment) -> Comment:
        while comment.parent_id is not None and comment.parent_id in by_id:
            comment = by_id[comment.parent_id]
        return comment

    result = []
    status = query.get("status")
    for comment in comments:
        if status is not None and comment.status != status:
            continue
        root = root_of(comment)
        anchor = anchors.get(root.id) or _own_anchor(root)
        result.append(AnchoredComment(comment, anchor, version or root.version))
    return result
