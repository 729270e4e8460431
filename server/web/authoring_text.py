"""An uploaded file as a document's text: which kind of file it is by its name, and its bytes
as UTF-8 text, refused with a reason a person can act on."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from flask_babel import gettext

from server.services.errors import DomainError

UPLOAD_KINDS = {".md": "text", ".markdown": "text", ".txt": "text", ".docx": "docx"}


class UploadRefused(Exception):
    """The upload form's input is refused; detail says why, status is the page's status."""

    def __init__(self, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


def upload_kind(filename: str) -> str:
    """'text' or 'docx' by the file name's extension (browsers may send a Windows path)."""
    name = PureWindowsPath(PurePosixPath(filename).name).name
    kind = UPLOAD_KINDS.get(PurePosixPath(name).suffix.lower())
    if kind is None:
        raise UploadRefused(gettext("Only .docx, .md and .txt files can be uploaded."))
    return kind


def text_of_upload(body: bytes) -> str:
    """The file's text: strict UTF-8 without NUL bytes; a leading byte order mark (as Windows
    editors write) is dropped. Line endings and NFC are the store's business."""
    if b"\x00" in body:
        raise UploadRefused(
            gettext("The file contains NUL bytes: it is not a text file. Save it as UTF-8 text.")
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadRefused(
            gettext(
                "The file is not UTF-8 text (the byte at position %(at)s is not UTF-8). "
                "Save it as UTF-8 and upload it again.",
                at=exc.start,
            )
        ) from exc
    return text.removeprefix("\ufeff")


def _(message: str) -> str:
    """Mark a text for the catalogue; it is translated when shown."""
    return message


# The Word reader's refusals (repo_store/word/errors.py, by problem type) in the reader's
# language; the API answers the same refusals in English.
WORD_REFUSALS = {
    "docx-too-large": _(
        "The Word document is too large, or a part of it unpacks to more than peerlex reads."
    ),
    "docx-not-word": _("The file is not a Word document (.docx)."),
    "docx-corrupt": _(
        "The Word document is damaged and cannot be read. Open it in Word, save it again and "
        "upload it."
    ),
    "docx-encrypted": _(
        "The Word document is protected by a password. Remove the protection in Word and upload "
        "it again."
    ),
    "docx-macros": _(
        "The document carries macros. Save it in Word as a Word Document (.docx) without macros "
        "and upload it again."
    ),
    "docx-external-reference": _(
        "The document refers to files outside it, which peerlex does not fetch. Remove those "
        "links and upload it again."
    ),
    "docx-xml-entities": _(
        "The document declares XML entities, which peerlex refuses as unsafe. Save it again in "
        "Word and upload it."
    ),
}


def word_refusal_text(error: DomainError) -> str | None:
    """A Word import's refusal said in the reader's language, or None for any other refusal."""
    if error.kind == "docx-tracked-changes":
        cause = error.__cause__
        said: str = gettext(
            "The document has tracked changes pending: %(ins)s insertion(s) and %(dels)s "
            "deletion(s). Accept or reject them in Word first (Review › Accept or Reject › all "
            "changes), then upload it again.",
            ins=getattr(cause, "insertions", "?"),
            dels=getattr(cause, "deletions", "?"),
        )
        return said
    message = WORD_REFUSALS.get(error.kind or "")
    return gettext(message) if message else None
