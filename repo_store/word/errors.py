"""Typed refusals of a Word package: each carries the HTTP status and problem slug it maps to."""

from __future__ import annotations


class WordError(Exception):
    """A .docx that peerlex will not read; ``status`` is 413, 415 or 422, ``kind`` a slug."""

    status: int = 422
    kind: str = "docx-corrupt"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class PackageTooLarge(WordError):
    """The file, a part of it, or all of it unpacked is larger than the limits allow."""

    status = 413
    kind = "docx-too-large"


class NotWord(WordError):
    """Not a Word package at all: not a zip, a spreadsheet, an old binary .doc."""

    status = 415
    kind = "docx-not-word"


class CorruptPackage(WordError):
    """A zip or an XML part that cannot be read to the end."""

    status = 422
    kind = "docx-corrupt"


class EncryptedDocument(WordError):
    """A password-protected document: Word stores it as an encrypted OLE compound file."""

    status = 422
    kind = "docx-encrypted"

    def __init__(self) -> None:
        super().__init__(
            "The document is protected with a password. Remove the password in Word "
            "(File › Info › Protect Document) and upload it again."
        )


class MacrosPresent(WordError):
    """A macro-enabled document (.docm, or a package carrying a VBA project)."""

    status = 422
    kind = "docx-macros"

    def __init__(self) -> None:
        super().__init__(
            "The document contains macros. Save it in Word as a plain Word Document (.docx) "
            "and upload that."
        )


class ExternalReference(WordError):
    """Text that lives outside the package (a sub-document or an imported chunk)."""

    status = 422
    kind = "docx-external-reference"


class XmlEntities(WordError):
    """An XML part with a document type declaration: entities are never expanded."""

    status = 422
    kind = "docx-xml-entities"

    def __init__(self, part: str) -> None:
        super().__init__(
            f"The part {part} declares a document type or entities, which Word never writes; "
            "the file is refused."
        )
        self.part = part


class TrackedChangesPending(WordError):
    """Tracked changes not yet accepted or rejected: the text to store would be a guess."""

    status = 422
    kind = "docx-tracked-changes"

    def __init__(self, insertions: int, deletions: int, formatting: int = 0) -> None:
        extra = f" and {formatting} formatting change(s)" if formatting else ""
        super().__init__(
            f"The document has tracked changes pending: {insertions} insertion(s) and "
            f"{deletions} deletion(s){extra}; accept or reject them in Word first "
            "(Review › Accept or Reject › all changes), then upload it again."
        )
        self.insertions = insertions
        self.deletions = deletions
        self.formatting = formatting
