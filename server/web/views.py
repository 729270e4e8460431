"""The pages: sign in, reviews, documents, redlines and comments, each a thin call to services."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, NotFound, TooManyRequests, Unauthorized

from keys.protocol import principal
from repo_store.diff import parse_blocks
from repo_store.diff.pages import page_starts
from server.auth import client_address, csrf
from server.db import db_session
from server.errors import STORAGE_ERRORS, domain_error, retry_headers, status_of
from server.models import ReviewState, User
from server.permissions import find_review, heads_of, may_decide_comments, organiser_party
from server.schemas import (
    ApprovalCreateSchema,
    CommentCreateSchema,
    CommentPatchSchema,
    CredentialsSchema,
    DiffQuerySchema,
    ReviewPatchSchema,
    VersionQuerySchema,
)
from server.services import approvals, attachments, bundles, comments, diffs, documents, reviews
from server.services.bundle_readme import readme_text
from server.services.context import services
from server.services.errors import DomainError, Invalid
from server.services.limits import is_expensive, work_gate
from server.services.users import list_parties
from server.signin import authenticate, end_session, start_session
from server.web.i18n import LANGUAGE_COOKIE, LANGUAGES

log = logging.getLogger(__name__)

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
COMMENT_FIELDS = ("party", "slug", "version", "quote", "prefix", "suffix", "block", "parent")


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PAGE_CSP
    if request.endpoint != "web.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def safe_next(value: str | None) -> str | None:
    """A path on this site to go back to, or None for anything that could lead elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if any(c in value for c in "\\\r\n\t") or not value.isprintable():
        return None
    parts = urlsplit(value)
    return None if parts.scheme or parts.netloc else value


def _back(default: str) -> str:
    return safe_next(request.form.get("next")) or default


# Errors: the same exceptions the API answers as problem+json, shown here as pages.


def _error_page(status: int, detail: str | None = None) -> tuple[str, int]:
    titles = {
        400: gettext("The request was not understood"),
        403: gettext("You may not do that"),
        404: gettext("Not found, or you may not see it"),
        409: gettext("That cannot be done now"),
        413: gettext("Too large"),
        422: gettext("That cannot be done as asked"),
        503: gettext("The server is busy"),
    }
    title = titles.get(status, gettext("Something went wrong"))
    return render_template("web/error.html", title=title, status=status, detail=detail), status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status == 401:
        target = here_for_sign_in()
        return redirect(url_for("web.sign_in", next=target) if target else url_for("web.sign_in"))
    detail = error.description if status < 500 or status == 503 else None
    page, status = _error_page(status, detail)
    response = make_response(page, status)
    for key, value in error.get_headers():
        if key.lower() == "retry-after":
            response.headers[key] = value
    return response


def here_for_sign_in() -> str | None:
    if request.method != "GET":
        return None
    query = request.query_string.decode("ascii", "replace")
    return safe_next(request.path + ("?" + query if query else ""))


def _domain_error(error: Exception) -> Any:
    """A refusal of the domain, with the status the API gives it (server/errors.py)."""
    found = domain_error(error)
    status = status_of(found)
    page, status = _error_page(status, found.detail if status < 500 or status == 503 else None)
    response = make_response(page, status)
    response.headers.update(retry_headers(found))
    return response


_REFUSALS: list[type[Exception]] = [DomainError, *STORAGE_ERRORS]
for _kind in _REFUSALS:
    bp.register_error_handler(_kind, _domain_error)


@bp.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> Any:
    return _error_page(400, _messages(error))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Any:
    log.exception("unhandled error on a web page")
    return _error_page(500)


def _messages(error: ValidationError) -> str:
    found = error.messages if isinstance(error.messages, dict) else {"": error.messages}
    return "; ".join(
        f"{name}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
        for name, msgs in found.items()
    )


# Signing in and out, and the interface language.


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("web.my_reviews"))
    if request.method == "GET":
        return render_template("web/sign_in.html", next_url=next_url, error=None, email="")
    # The page is public, so the app's check does not run: a forged sign-in is refused here.
    csrf.protect()
    email = request.form.get("email", "")
    try:
        credentials = CredentialsSchema().load(
            {"email": email.strip(), "password": request.form.get("password", "")}
        )
        user = authenticate(credentials["email"], credentials["password"], client_address())
    except (ValidationError, Unauthorized):
        error, status = gettext("Wrong email or password."), 401
    except TooManyRequests:
        error, status = gettext("Too many failed sign-ins. Try again later."), 429
    else:
        start_session(user)
        db_session().commit()
        return redirect(next_url or url_for("web.my_reviews"))
    page = render_template("web/sign_in.html", next_url=next_url, error=error, email=email)
    return page, status


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    end_session()
    db_session().commit()
    return redirect(url_for("web.sign_in"))


@bp.route("/language/<code>")
def set_language(code: str) -> Any:
    if code not in LANGUAGES:
        raise NotFound("no such language")
    response = make_response(redirect(safe_next(request.args.get("next")) or url_for("web.home")))
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


# Reviews.


@bp.route("/")
def home() -> Any:
    return redirect(url_for("web.my_reviews"))


@bp.route("/reviews")
def my_reviews() -> str:
    return render_template("web/reviews.html", reviews=reviews.list_reviews(_user()))


@dataclass
class SharedDocument:
    """One State's document as shared into a review: its shared versions and comment count."""

    party: str
    slug: str
    title: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    open_comments: int = 0
    approval: dict[str, Any] | None = None

    @property
    def latest(self) -> str:
        return str(self.versions[-1]["version"])


def _shared_documents(user: User, rid: str) -> dict[tuple[str, str], SharedDocument]:
    found: dict[tuple[str, str], SharedDocument] = {}
    titles: dict[str, dict[str, str]] = {}
    for share in reviews.list_shares(user, rid):
        key = (share["party"], share["slug"])
        if key not in found:
            if share["party"] not in titles:
                titles[share["party"]] = {
                    d["slug"]: d["title"] or d["slug"]
                    for d in documents.list_documents(user, share["party"])
                }
            title = titles[share["party"]].get(share["slug"], share["slug"])
            found[key] = SharedDocument(share["party"], share["slug"], title)
        found[key].versions.append(share)
    return found


@bp.route("/reviews/<rid>")
def review_page(rid: str) -> str:
    user = _user()
    review = find_review(user, rid)
    shared = _shared_documents(user, rid)
    # A thread is open while its first comment is: replies carry no status of their own.
    open_threads = [
        c
        for c in comments.list_comments(user, rid, {})
        if c["parent"] is None and c["status"] == "open"
    ]
    for comment in open_threads:
        key = (comment["party"], comment["slug"])
        if key in shared:
            shared[key].open_comments += 1
    standing = [a for a in approvals.list_approvals(user, rid) if not a["voided"]]
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
    return render_template(
        "web/review.html",
        review=reviews.review_payload(review),
        names={p.code: p.name for p in list_parties()},
        by_state=dict(sorted(by_state.items())),
        open_total=len(open_threads),
        approvals=standing,
        missing=approvals.missing_approvals(review) if is_organiser else [],
        is_organiser=is_organiser,
        heads_of=heads_of(user),
        bundle=bundle,
        readme=readme_text(review.slug, organiser) if organiser else "",
        organiser_principal=principal(organiser) if organiser else "",
    )


@bp.route("/reviews/<rid>/state", methods=["POST"])
def change_state(rid: str) -> Any:
    data = ReviewPatchSchema().load({"state": request.form.get("state", "")})
    reviews.change_state(_user(), rid, data["state"])
    return redirect(url_for("web.review_page", rid=rid))


@bp.route("/reviews/<rid>/approvals", methods=["POST"])
def approve(rid: str) -> Any:
    data = ApprovalCreateSchema().load(
        {key: request.form.get(key, "") for key in ("party", "slug", "version")}
    )
    approvals.approve(_user(), rid, data)
    flash(gettext("Approved and signed."))
    return redirect(url_for("web.review_page", rid=rid, _anchor="approvals"))


@bp.route("/reviews/<rid>/bundle", methods=["POST"])
def build_bundle(rid: str) -> Any:
    built = bundles.build_bundle(_user(), rid)
    flash(gettext("The final bundle is built. Its SHA-256: %(sha)s", sha=built["sha256"]))
    return redirect(url_for("web.review_page", rid=rid, _anchor="bundle"))


# Documents, redlines and comments.


@dataclass
class Thread:
    """A root comment with its replies, in order."""

    comment: dict[str, Any]
    replies: list[dict[str, Any]] = field(default_factory=list)


def _threads(user: User, rid: str, party: str, slug: str, version: str) -> list[Thread]:
    listed = comments.list_comments(user, rid, {"party": party, "slug": slug, "version": version})
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


def _by_block(threads: list[Thread]) -> tuple[dict[str, list[Thread]], list[Thread]]:
    placed: dict[str, list[Thread]] = defaultdict(list)
    unplaced = []
    for thread in threads:
        block = thread.comment["anchor"]["block"]
        if block and thread.comment["anchor"]["status"] != "orphaned":
            placed[block].append(thread)
        else:
            unplaced.append(thread)
    return placed, unplaced


def _document_in_review(user: User, rid: str, party: str, slug: str) -> tuple[Any, list[str]]:
    """The review and the versions of this document shared into it; 404 when none are."""
    review = find_review(user, rid)
    shared = [
        s["version"]
        for s in reviews.list_shares(user, rid)
        if s["party"] == party and s["slug"] == slug
    ]
    if not shared:
        raise NotFound(documents.NOT_FOUND)
    return review, shared


def _comment_context(user: User, review: Any, party: str) -> dict[str, Any]:
    return {
        "can_comment": review.state != ReviewState.CLOSED,
        "can_decide": may_decide_comments(user, review, party),
        "user_email": user.email,
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


def _page_number() -> int:
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
    user = _user()
    review, shared = _document_in_review(user, rid, party, slug)
    query = VersionQuerySchema().load({k: v for k, v in request.args.items() if k == "version"})
    doc = documents.get_document(user, party, slug, query.get("version"))
    version = doc["version"]["commit"]
    threads = _threads(user, rid, party, slug, version) if version in shared else []
    placed, unplaced = _by_block(threads)
    blocks, pager = _blocks_page(doc["content"], _page_number())
    return render_template(
        "web/document.html",
        review=reviews.review_payload(review),
        doc=doc,
        versions=documents.document_versions(user, party, slug),
        shared=shared,
        blocks=blocks,
        pager=pager,
        placed=placed,
        unplaced=unplaced,
        attachments=attachments.list_for(user, party, slug),
        commentable=version in shared,
        **_comment_context(user, review, party),
    )


@dataclass
class RedlineRow:
    """One block of a comparison, as word runs for the old and the new side."""

    op: str
    old_id: str | None
    new_id: str | None
    kind: str
    renumbered: bool
    old: list[tuple[str, str]]
    new: list[tuple[str, str]]
    inline: list[tuple[str, str]]


def _rows(blocks: list[dict[str, Any]]) -> list[RedlineRow]:
    rows = []
    for block in blocks:
        runs = [(t["op"], t["text"]) for t in block["tokens"]] or [("equal", block["text"])]
        if block["op"] == "insert":
            inline, old, new = [("insert", block["text"])], [], [("insert", block["text"])]
        elif block["op"] == "delete":
            inline, old, new = [("delete", block["text"])], [("delete", block["text"])], []
        else:
            inline = runs
            old = [r for r in runs if r[0] != "insert"]
            new = [r for r in runs if r[0] != "delete"]
        rows.append(
            RedlineRow(
                block["op"],
                block["old_id"],
                block["new_id"],
                block["kind"],
                block["renumbered"],
                old,
                new,
                inline,
            )
        )
    return rows


@bp.route("/reviews/<rid>/documents/<party>/<slug>/redline")
def redline_page(rid: str, party: str, slug: str) -> str:
    user = _user()
    review, shared = _document_in_review(user, rid, party, slug)
    query = DiffQuerySchema().load(
        {k: v for k, v in request.args.items() if k in ("from", "to") and v}
    )
    view = "side" if request.args.get("view") == "side" else "inline"
    found = diffs.diff_page(user, party, slug, query["from_"], query["to"], "json", _page_number())
    diff: dict[str, Any] = found.to_json()
    pager = Pager(
        found.page,
        found.pages,
        found.first_block,
        found.first_block + len(diff["blocks"]),
        found.blocks_total,
    )
    version = diff["to"]
    threads = _threads(user, rid, party, slug, version) if version in shared else []
    placed, unplaced = _by_block(threads)
    doc = documents.get_document(user, party, slug, version)
    return render_template(
        "web/redline.html",
        review=reviews.review_payload(review),
        doc=doc,
        diff=diff,
        rows=_rows(diff["blocks"]),
        pager=pager,
        view=view,
        versions=documents.document_versions(user, party, slug),
        shared=shared,
        placed=placed,
        unplaced=unplaced,
        commentable=version in shared,
        **_comment_context(user, review, party),
    )


def _comment_form_data() -> dict[str, Any]:
    data: dict[str, Any] = {
        key: request.form[key] for key in COMMENT_FIELDS if request.form.get(key, "").strip()
    }
    data["body"] = request.form.get("body", "").replace("\r\n", "\n").strip()
    return data


@bp.route("/reviews/<rid>/comments", methods=["POST"])
def post_comment(rid: str) -> Any:
    user = _user()
    review = find_review(user, rid)
    back = _back(url_for("web.review_page", rid=rid))
    data = _comment_form_data()
    try:
        created = comments.create_comment(user, rid, CommentCreateSchema().load(data))
    except ValidationError as exc:
        return _comment_retry(review, data, back, _messages(exc))
    except Invalid as exc:
        return _comment_retry(review, data, back, exc.detail)
    return redirect(f"{back.split('#')[0]}#comment-{created['id']}")


def _comment_retry(review: Any, data: dict[str, Any], back: str, detail: str) -> Any:
    page = render_template(
        "web/comment_retry.html",
        review=reviews.review_payload(review),
        data=data,
        back=back,
        detail=detail,
    )
    return page, 422


@bp.route("/reviews/<rid>/comments/<int:comment_id>/status", methods=["POST"])
def set_comment_status(rid: str, comment_id: int) -> Any:
    data = CommentPatchSchema().load({"status": request.form.get("status", "")})
    comments.update_comment(_user(), rid, comment_id, data)
    back = _back(url_for("web.review_page", rid=rid))
    return redirect(f"{back.split('#')[0]}#comment-{comment_id}")
