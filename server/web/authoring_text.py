"""An uploaded file as a document's text: which kind of file it is by its name, and its bytes
as UTF-8 text, refused with a reason a person can act on."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from flask_babel import gettext

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
