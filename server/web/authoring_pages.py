"""Authoring from the document page: upload a new version (.md, .txt or .docx) on the version
shown, with its message, and share the version shown into a review. Uploads go through the same
services as the API's PUT, so a page and the API save exactly alike."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from marshmallow import ValidationError
from werkzeug.datastructures import FileStorage

from repo_store.errors import StaleVersion
from repo_store.names import SHA
from server.errors import STORAGE_ERRORS, domain_error, status_of
from server.models import Review, User
from server.payloads import document_payload, review_payload, version_payload
from server.permissions import can_write_for, find_review
from server.schemas import DocumentPutSchema, ShareCreateSchema
from server.schemas_word import DocxImportQuerySchema
from server.services import documents, reviews, word_import
from server.services.context import services
from server.services.errors import DomainError, Forbidden
from server.web.authoring_text import (
    UploadRefused,
    text_of_upload,
    upload_kind,
    word_refusal_text,
)
from server.web.blueprint import bp, messages, signed_in_user
from server.web.document_pages import document_in_review

# Refusals of the file or its base, shown beside the form again (400, 409, 413, 415, 422); any other
# refusal is an error page, as everywhere.
FORM_REFUSALS: tuple[type[Exception], ...] = (DomainError, *STORAGE_ERRORS)


@dataclass(frozen=True)
class Upload:
    """What the upload form sent, read and checked at the edge."""

    base: str | None  # None: a new document
    message: str
    name: str
    kind: str  # "text" or "docx"
    body: bytes
    # A new document's title, kind and language; an update keeps the document's own.
    metadata: dict[str, str] = field(default_factory=dict)


def require_author(user: User, party: str) -> None:
    """Only the State's own experts and heads write or share its documents (others: 403, since
    the page is visible to them)."""
    if not can_write_for(user, party):
        raise Forbidden(gettext("Only the State's own experts and heads write its documents."))


def read_message() -> str:
    """The form's message, with the browser's line endings made plain; refused when empty."""
    message = request.form.get("message", "").replace("\r\n", "\n").strip()
    if not message:
        raise UploadRefused(gettext("Write a message saying what changed."))
    return message


def read_file() -> tuple[str, str, bytes]:
    """The form's file: its name, its kind ("text" or "docx") and its bytes, within the limit."""
    file = request.files.get("file")
    if not isinstance(file, FileStorage) or not file.filename:
        raise UploadRefused(gettext("Choose a file: .docx, .md or .txt."))
    kind = upload_kind(file.filename)
    limit = services().config.max_body_bytes
    body = file.stream.read(limit + 1)
    if len(body) > limit:
        raise UploadRefused(gettext("The file is larger than %(n)s bytes.", n=limit), status=413)
    if not body:
        raise UploadRefused(gettext("The file is empty."))
    return file.filename, kind, body


def _read_upload() -> Upload:
    base = request.form.get("base", "").strip()
    if not SHA.fullmatch(base):
        raise UploadRefused(gettext("The form names no version to base the new one on."))
    message = read_message()
    return Upload(base, message, *read_file())


def form_refusal(exc: Exception) -> tuple[str, int]:
    """A service's refusal as the reason shown beside the form and the page's status; any
    refusal a form cannot correct is raised again, to be an error page."""
    found = domain_error(exc)
    status = status_of(found)
    if status not in (400, 409, 413, 415, 422):
        raise exc
    return word_refusal_text(found) or found.detail, status


def save_upload(user: User, party: str, slug: str, upload: Upload) -> str:
    """Save the upload as a new version on its base (none: a new document); answer the new
    version's id."""
    if upload.kind == "docx":
        return _save_docx(user, party, slug, upload)
    data = {"content": text_of_upload(upload.body), "message": upload.message, **upload.metadata}
    if upload.base is not None:
        data["base"] = upload.base
    try:
        loaded = DocumentPutSchema().load(data)
    except ValidationError as exc:
        raise UploadRefused(messages(exc)) from exc
    saved = documents.save_document(user, party, slug, loaded)
    return str(saved.document.doc.version.sha)


def _save_docx(user: User, party: str, slug: str, upload: Upload) -> str:
    """The API's Word import (PUT with a .docx body): converted, the original kept encrypted."""
    fields = {"message": upload.message, "name": upload.name, **upload.metadata}
    if upload.base is not None:
        fields["base"] = upload.base
    try:
        query = DocxImportQuerySchema().load(fields)
    except ValidationError as exc:
        raise UploadRefused(messages(exc)) from exc
    saved = word_import.import_docx(user, party, slug, io.BytesIO(upload.body), query)
    return str(saved.document.doc.version.sha)


@bp.route("/reviews/<rid>/documents/<party>/<slug>/versions", methods=["POST"])
def upload_version(rid: str, party: str, slug: str) -> Any:
    user = signed_in_user()
    review, _ = document_in_review(user, rid, party, slug)
    require_author(user, party)
    base = request.form.get("base", "")
    message = request.form.get("message", "")
    try:
        upload = _read_upload()
        version = save_upload(user, party, slug, upload)
    except UploadRefused as exc:
        return _refused(user, review, party, slug, base, message, exc.detail, exc.status)
    except StaleVersion as exc:
        return _stale(user, review, party, slug, base, message, exc.head)
    except FORM_REFUSALS as exc:
        detail, status = form_refusal(exc)
        return _refused(user, review, party, slug, base, message, detail, status)
    if version == upload.base:
        flash(gettext("The file is the same as the version shown: nothing was saved."))
    else:
        flash(gettext("Saved the new version %(v)s.", v=version[:12]))
    return redirect(
        url_for("web.document_page", rid=rid, party=party, slug=slug, version=version), 303
    )


def _refused(
    user: User,
    review: Review,
    party: str,
    slug: str,
    base: str,
    message: str,
    detail: str,
    status: int,
) -> Any:
    """The refusal's reason and the form again, on the base asked for when it is a version."""
    base = base if SHA.fullmatch(base) else ""
    doc = document_payload(documents.get_document(user, party, slug, None), content=False)
    page = render_template(
        "web/upload_refused.html",
        review=review_payload(review),
        doc=doc,
        base=base,
        message=message,
        detail=detail,
    )
    return page, status


def _stale(
    user: User,
    review: Review,
    party: str,
    slug: str,
    base: str,
    message: str,
    head: str | None,
) -> Any:
    """The document moved on since the version shown: name the newer one, offer its redline."""
    versions = [version_payload(v) for v in documents.document_versions(user, party, slug)]
    newer = next((v for v in versions if v["commit"] == head), versions[0])
    doc = document_payload(
        documents.get_document(user, party, slug, newer["commit"]), content=False
    )
    page = render_template(
        "web/upload_stale.html",
        review=review_payload(review),
        doc=doc,
        base=base,
        newer=newer,
        message=message,
    )
    return page, 409


@bp.route("/reviews/<rid>/documents/<party>/<slug>/shares", methods=["POST"])
def share_from_document(rid: str, party: str, slug: str) -> Any:
    user = signed_in_user()
    document_in_review(user, rid, party, slug)
    require_author(user, party)
    data = ShareCreateSchema().load(
        {"party": party, "slug": slug, "version": request.form.get("version", "")}
    )
    into = find_review(user, request.form.get("review", "") or rid)
    _, created = reviews.share_version(user, into.slug, data)
    said = {"v": data["version"][:12], "r": into.title}
    if created:
        flash(gettext("Shared version %(v)s into %(r)s.", **said))
    else:
        flash(gettext("Version %(v)s was already shared into %(r)s.", **said))
    return redirect(
        url_for(
            "web.document_page", rid=into.slug, party=party, slug=slug, version=data["version"]
        ),
        303,
    )
