"""The comment forms: post a comment or reply, and set a comment's status."""

from __future__ import annotations

from typing import Any

from flask import (
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError

from server.payloads import (
    review_payload,
)
from server.permissions import find_review
from server.schemas import (
    CommentCreateSchema,
    CommentPatchSchema,
)
from server.services import comments
from server.services.errors import Invalid
from server.web.blueprint import back_to, bp, messages, signed_in_user

COMMENT_FIELDS = ("party", "slug", "version", "quote", "prefix", "suffix", "block", "parent")


def _comment_form_data() -> dict[str, Any]:
    data: dict[str, Any] = {
        key: request.form[key] for key in COMMENT_FIELDS if request.form.get(key, "").strip()
    }
    data["body"] = request.form.get("body", "").replace("\r\n", "\n").strip()
    return data


@bp.route("/reviews/<rid>/comments", methods=["POST"])
def post_comment(rid: str) -> Any:
    user = signed_in_user()
    review = find_review(user, rid)
    back = back_to(url_for("web.review_page", rid=rid))
    data = _comment_form_data()
    try:
        created = comments.create_comment(user, rid, CommentCreateSchema().load(data))
    except ValidationError as exc:
        return _comment_retry(review, data, back, messages(exc))
    except Invalid as exc:
        return _comment_retry(review, data, back, exc.detail)
    return redirect(f"{back.split('#')[0]}#comment-{created.comment.id}")


def _comment_retry(review: Any, data: dict[str, Any], back: str, detail: str) -> Any:
    page = render_template(
        "web/comment_retry.html",
        review=review_payload(review),
        data=data,
        back=back,
        detail=detail,
    )
    return page, 422


@bp.route("/reviews/<rid>/comments/<int:comment_id>/status", methods=["POST"])
def set_comment_status(rid: str, comment_id: int) -> Any:
    data = CommentPatchSchema().load({"status": request.form.get("status", "")})
    comments.update_comment(signed_in_user(), rid, comment_id, data)
    back = back_to(url_for("web.review_page", rid=rid))
    return redirect(f"{back.split('#')[0]}#comment-{comment_id}")
