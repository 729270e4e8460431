"""Reviews, the versions shared into them, and the comments on those versions."""

from __future__ import annotations

from typing import Any

from flask import Response, send_file
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import RAISE

from server.payloads import approval_payload, comment_payload, review_payload, share_payload
from server.permissions import find_review
from server.schemas import (
    ApprovalCreateSchema,
    ApprovalSchema,
    BundleInfoSchema,
    CommentCreateSchema,
    CommentPatchSchema,
    CommentQuerySchema,
    CommentSchema,
    ReviewCreateSchema,
    ReviewPatchSchema,
    ReviewSchema,
    ShareCreateSchema,
    ShareSchema,
)
from server.services import approvals, bundles, comments, reviews

blp = Blueprint("reviews", __name__, url_prefix="/api/v1/reviews", description="Peer reviews")


@blp.route("", methods=["POST"])
@blp.arguments(ReviewCreateSchema)
@blp.response(201, ReviewSchema)
def create_review(data: dict[str, Any]) -> dict[str, Any]:
    """Open a review with its participating States, organisers and observers (organisers)."""
    return review_payload(reviews.create_review(current_user, data))


@blp.route("", methods=["GET"])
@blp.response(200, ReviewSchema(many=True))
def list_reviews() -> list[dict[str, Any]]:
    """The reviews your party takes part in, newest first."""
    return [review_payload(r) for r in reviews.list_reviews(current_user)]


@blp.route("/<rid>", methods=["GET"])
@blp.response(200, ReviewSchema)
def get_review(rid: str) -> dict[str, Any]:
    """One review, by slug or id."""
    return review_payload(find_review(current_user, rid))


@blp.route("/<rid>", methods=["PATCH"])
@blp.arguments(ReviewPatchSchema)
@blp.response(200, ReviewSchema)
def patch_review(data: dict[str, Any], rid: str) -> dict[str, Any]:
    """Move the review on: open -> agreement -> closed (its organisers)."""
    return review_payload(reviews.change_state(current_user, rid, data["state"]))


@blp.route("/<rid>/shares", methods=["POST"])
@blp.arguments(ShareCreateSchema)
@blp.response(201, ShareSchema)
@blp.alt_response(200, schema=ShareSchema, description="Already shared")
def share(data: dict[str, Any], rid: str) -> tuple[dict[str, Any], int]:
    """Share one version of your State's document into the review."""
    share, created = reviews.share_version(current_user, rid, data)
    return share_payload(share), 201 if created else 200


@blp.route("/<rid>/shares", methods=["GET"])
@blp.response(200, ShareSchema(many=True))
def list_shares(rid: str) -> list[dict[str, Any]]:
    """Every version shared into the review."""
    return [share_payload(s) for s in reviews.list_shares(current_user, rid)]


@blp.route("/<rid>/comments", methods=["POST"])
@blp.arguments(CommentCreateSchema)
@blp.response(201, CommentSchema)
def create_comment(data: dict[str, Any], rid: str) -> dict[str, Any]:
    """Comment on a quote of a shared version, or reply with parent."""
    return comment_payload(comments.create_comment(current_user, rid, data))


@blp.route("/<rid>/comments", methods=["GET"])
@blp.arguments(CommentQuerySchema, location="query", unknown=RAISE)
@blp.response(200, CommentSchema(many=True))
def list_comments(query: dict[str, Any], rid: str) -> list[dict[str, Any]]:
    """The review's comments; with party, slug and version, each anchored on that version."""
    return [comment_payload(c) for c in comments.list_comments(current_user, rid, query)]


@blp.route("/<rid>/comments/<int:comment_id>", methods=["PATCH"])
@blp.arguments(CommentPatchSchema)
@blp.response(200, CommentSchema)
def patch_comment(data: dict[str, Any], rid: str, comment_id: int) -> dict[str, Any]:
    """Change a comment's status, or edit your own comment's body."""
    return comment_payload(comments.update_comment(current_user, rid, comment_id, data))


@blp.route("/<rid>/approvals", methods=["POST"])
@blp.arguments(ApprovalCreateSchema)
@blp.response(201, ApprovalSchema)
def create_approval(data: dict[str, Any], rid: str) -> dict[str, Any]:
    """Approve the final version of one of your State's documents (heads, agreement state)."""
    return approval_payload(approvals.approve(current_user, rid, data))


@blp.route("/<rid>/approvals", methods=["GET"])
@blp.response(200, ApprovalSchema(many=True))
def list_approvals(rid: str) -> list[dict[str, Any]]:
    """Every approval made in the review, voided ones included."""
    return [approval_payload(a) for a in approvals.list_approvals(current_user, rid)]


@blp.route("/<rid>/bundle", methods=["POST"])
@blp.response(201, BundleInfoSchema)
@blp.alt_response(409, description="Approvals missing; `missing` lists them")
def build_bundle(rid: str) -> bundles.BuiltBundle:
    """Build the signed final bundle (organisers; every shared document approved). Closes it."""
    return bundles.build_bundle(current_user, rid)


@blp.route("/<rid>/bundle", methods=["GET"])
@blp.response(200, content_type="application/x-tar")
def download_bundle(rid: str) -> Response:
    """The final bundle, a tar file to verify with `peerlex verify` or standard tools."""
    path = bundles.bundle_file(current_user, rid)
    return send_file(
        path, mimetype="application/x-tar", as_attachment=True, download_name=path.name, max_age=0
    )
