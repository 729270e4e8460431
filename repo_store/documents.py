"""What a document is in its history: its paths in the tree, its stored text, and the shapes
a version of it is read in.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from repo_store.commits import CommitInfo
from repo_store.objects import object_id

DOCUMENTS = "documents"


def normalise_document_text(text: str) -> str:
    """Store text as NFC with LF line endings and a final newline."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return text if text.endswith("\n") or not text else text + "\n"


def git_blob_id(data: bytes) -> bytes:
    """The binary object id git gives a blob with these bytes."""
    return object_id(b"blob", data)


def document_paths(slug: str) -> tuple[str, str]:
    """The text and metadata paths of a document in the repository tree."""
    return f"{DOCUMENTS}/{slug}.md", f"{DOCUMENTS}/{slug}.json"


def belongs_to_document(path: str, slug: str) -> bool:
    """Whether a tree path may be written in the document's own history."""
    return path in document_paths(slug) or path.startswith(f"attachments/{slug}/")


@dataclass(frozen=True)
class Document:
    """A document as of one version."""

    slug: str
    version: CommitInfo
    content: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class DocumentSummary:
    """A document's slug, metadata and current version, for listings."""

    slug: str
    version: str
    metadata: dict[str, Any]
