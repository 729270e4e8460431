"""Typed errors the store raises; the server maps each to one HTTP status."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for repository store errors."""


class RepositoryNotFound(StoreError):
    """The party has no repository."""


class DocumentNotFound(StoreError):
    """No such document, or not at that version."""


class UnknownVersion(StoreError):
    """A commit id that is not in this repository's history."""


class DocumentExists(StoreError):
    """A create (no base) named a document that already exists."""

    def __init__(self, head: str) -> None:
        super().__init__(f"the document exists; its current version is {head}")
        self.head = head


class StaleVersion(StoreError):
    """The base a writer edited from is no longer the document's current version."""

    def __init__(self, head: str | None) -> None:
        super().__init__(f"stale base: the document's current version is {head}")
        self.head = head


class LegacyLayout(StoreError):
    """A repository in the first layout (every document on one branch) that this version
    does not read: its commits disclose every document at once."""
