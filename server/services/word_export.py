"""Word and PDF out: a version as .docx, and a comparison of two versions as a .docx with
tracked changes or as a printed redline, each optionally with a review's comments.

Reading follows the rules of every other read (server/services/documents.py): only versions the
caller may see, 404 for the rest. Large texts hold one of the worker's slots for costly work.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from repo_store.diff import diff_texts
from repo_store.diff.blocks import count_pieces
from repo_store.diff.textdiff import TextDiff
from repo_store.word.redline import redline_to_docx
from repo_store.word.writer import text_to_docx
from server.models import User
from server.redline.pdf import RedlineTooLong, render_redline_pdf
from server.services import documents
from server.services.context import services
from server.services.errors import Invalid
from server.services.limits import is_expensive, work_gate
from server.services.word_threads import Thread, note_threads, review_threads, word_comments

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class ExportedFile:
    """A generated download: its bytes, type and file name, and for a redline with comments,
    how many of them could not be set on their words (None: no comments were asked for)."""

    data: bytes
    media_type: str
    filename: str
    not_placed: int | None = None


def _gate(*texts: str) -> AbstractContextManager[None]:
    return work_gate().expensive("exports") if is_expensive(*texts) else nullcontext()


def version_docx(user: User, code: str, slug: str, version: str | None) -> ExportedFile:
    """A version the user may read, as a Word document."""
    view = documents.get_document(user, code, slug, version)
    doc = view.doc
    with _gate(doc.content):
        data = text_to_docx(
            doc.content,
            title=str(doc.metadata.get("title") or slug),
            language=str(doc.metadata.get("language") or "und"),
        )
    return ExportedFile(data, DOCX_MEDIA_TYPE, f"{slug}-{doc.version.sha[:12]}.docx")


def _versions(
    user: User, code: str, slug: str, old: str | None, new: str | None
) -> tuple[str | None, str]:
    new_version = documents.readable_version(user, code, slug, new)
    old_version = (
        documents.readable_version(user, code, slug, old)
        if old is not None
        else documents.previous_readable(user, code, slug, new_version)
    )
    return old_version, new_version


def diff_file(
    user: User,
    code: str,
    slug: str,
    old: str | None,
    new: str | None,
    fmt: str,
    review: str | None,
) -> ExportedFile:
    """The comparison of two readable versions as .docx (tracked changes) or PDF (redline)."""
    if fmt not in ("docx", "pdf"):
        raise Invalid("review goes with format=docx or format=pdf", "review-needs-file-format")
    old_version, new_version = _versions(user, code, slug, old, new)
    threads = (
        review_threads(user, review, code, slug, old_version, new_version)
        if review is not None
        else None
    )
    store = services().store
    new_doc = store.read_document(code, slug, new_version)
    old_text = store.read_document(code, slug, old_version).content if old_version else ""
    limit = services().config.max_document_blocks
    if max(count_pieces(old_text), count_pieces(new_doc.content)) > limit:
        raise Invalid(
            f"a version has more than {limit:,} blocks, the most a document may have; "
            "it cannot be compared",
            "too-many-blocks",
            limit=limit,
        )
    title = str(new_doc.metadata.get("title") or slug)
    language = str(new_doc.metadata.get("language") or "und")
    name = f"{slug}-{(old_version or 'none')[:12]}-{new_version[:12]}"
    with _gate(old_text, new_doc.content):
        diff = diff_texts(old_text, new_doc.content)
        if fmt == "docx":
            return _redline_docx(diff, code, new_version, threads, title, language, name, old_text)
        return _redline_pdf(diff, threads, title, language, name, old_version, new_version)


def _redline_docx(
    diff: TextDiff,
    code: str,
    new_version: str,
    threads: Sequence[Thread] | None,
    title: str,
    language: str,
    name: str,
    old_text: str,
) -> ExportedFile:
    store = services().store
    party = store.commit(code, new_version)
    made = redline_to_docx(
        diff,
        author=party.committer_name or code,
        date=party.committed_at,
        comments=word_comments(threads or ()),
        title=title,
        language=language,
        old_text=old_text,
    )
    not_placed = None if threads is None else len(made.not_placed)
    return ExportedFile(made.data, DOCX_MEDIA_TYPE, f"{name}.docx", not_placed)


def _redline_pdf(
    diff: TextDiff,
    threads: Sequence[Thread] | None,
    title: str,
    language: str,
    name: str,
    old_version: str | None,
    new_version: str,
) -> ExportedFile:
    notes = note_threads(threads or (), diff)
    try:
        data = render_redline_pdf(
            diff,
            title=title,
            old_label=old_version[:12] if old_version else "(none)",
            new_label=new_version[:12],
            language=language,
            notes=notes,
        )
    except RedlineTooLong as exc:
        raise Invalid(str(exc), "redline-too-long") from exc
    # A note without a block is printed in the list only, said not placed.
    not_placed = None if threads is None else sum(1 for note in notes if not note.block)
    return ExportedFile(data, PDF_MEDIA_TYPE, f"{name}.pdf", not_placed)
