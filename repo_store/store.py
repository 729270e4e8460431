"""One bare git repository per party, one history per document: signed commits, read by version.

Each document has its own ref, refs/documents/<slug>, whose commits hold only that document's
text, metadata and attachment pointers, so a signed commit discloses one document and nothing
else (docs/formats.md). The refs themselves are repo_store.refs; a document's shape in the
tree is repo_store.documents.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import git

from keys.party_keys import KeyStore
from keys.protocol import GIT_NAMESPACE, principal
from keys.trusted_keys import TrustedKey, server_keys
from repo_store.commits import (
    CommitInfo,
    Identity,
    PreparedCommit,
    SignatureCheck,
    check_signature,
    commit_payload,
    parse_commit,
    payload_tree,
    signed_commit,
)
from repo_store.documents import (
    Document,
    DocumentSummary,
    belongs_to_document,
    document_paths,
    git_blob_id,
    normalise_document_text,
)
from repo_store.errors import (
    DocumentExists,
    DocumentNotFound,
    LegacyLayout,
    RepositoryNotFound,
    StaleVersion,
    UnknownVersion,
)
from repo_store.git_diff import git_unified_diff
from repo_store.locking import document_lock
from repo_store.names import check_party, check_sha, check_slug
from repo_store.objects import ObjectReader, ObjectWriter, TreeHasher
from repo_store.refs import (
    check_layout,
    document_ref,
    document_slugs,
    in_first_layout,
    publish_commit,
    read_ref,
)

# Importers find a document's shapes and the layout check here, next to the store.
__all__ = [
    "Document",
    "DocumentSummary",
    "RepoStore",
    "belongs_to_document",
    "check_layout",
    "document_paths",
    "git_blob_id",
    "normalise_document_text",
]


class RepoStore:
    """All party repositories under one directory."""

    _VERSION_CACHE_SIZE = 65536
    _COMMIT_CACHE_SIZE = 16384
    _METADATA_CACHE_SIZE = 4096

    def __init__(self, root: Path, keys: KeyStore) -> None:
        self.root = root
        self.keys = keys
        self._readers: dict[str, ObjectReader] = {}
        self._lock = threading.Lock()
        # (party, commit, slug) -> the newest commit at or before `commit` that changed the
        # document. Commits never change, so entries never go stale.
        self._versions: OrderedDict[tuple[str, str, str], str | None] = OrderedDict()
        self._commits: OrderedDict[tuple[str, str], CommitInfo] = OrderedDict()
        # Metadata blob id -> its bytes: every edit that keeps the metadata reads it.
        self._metadata_blobs: OrderedDict[bytes, bytes] = OrderedDict()
        self._layout_checked: set[str] = set()

    # -- repositories -------------------------------------------------------------------------

    def path(self, party: str) -> Path:
        return self.root / f"{check_party(party)}.git"

    def create_repository(self, party: str) -> Path:
        """Create the party's bare repository (idempotent)."""
        path = self.path(party)
        if not (path / "HEAD").exists():
            self.root.mkdir(parents=True, exist_ok=True)
            git.Repo.init(path, bare=True, mkdir=True, initial_branch="main").close()
        return path

    def check_layout(self) -> None:
        """Refuse a data directory that holds a repository of the first layout."""
        check_layout(self.root)

    def _existing(self, party: str) -> Path:
        path = self.path(party)
        if not os.path.exists(f"{path}/HEAD"):
            raise RepositoryNotFound(f"party {party} has no repository")
        if party not in self._layout_checked:
            if in_first_layout(path):
                raise LegacyLayout(f"the repository of {party} is in the first layout")
            with self._lock:
                self._layout_checked.add(party)
        return path

    def reader(self, party: str) -> ObjectReader:
        with self._lock:
            reader = self._readers.get(party)
        if reader is None:
            path = self._existing(party)
            with self._lock:
                reader = self._readers.get(party)
                if reader is None:
                    reader = ObjectReader(path / "objects")
                    self._readers[party] = reader
        return reader

    def head(self, party: str, slug: str) -> str | None:
        """The newest commit of the document's history, or None if there is no such document."""
        return read_ref(self._existing(party), document_ref(slug))

    def slugs(self, party: str) -> list[str]:
        """Every document of the party, sorted."""
        return document_slugs(self._existing(party))

    # -- commits ------------------------------------------------------------------------------

    def commit(self, party: str, sha: str) -> CommitInfo:
        """Read and parse one commit (cached: commits never change)."""
        key = (party, sha)
        with self._lock:
            cached = self._commits.get(key)
        if cached is not None:
            return cached
        check_sha(sha)
        info = parse_commit(sha, self.reader(party).read(bytes.fromhex(sha), b"commit"))
        self._remember_commit(party, info)
        return info

    def _remember_commit(self, party: str, info: CommitInfo) -> None:
        with self._lock:
            self._commits[(party, info.sha)] = info
            if len(self._commits) > self._COMMIT_CACHE_SIZE:
                self._commits.popitem(last=False)

    def history(self, party: str, slug: str, start: str | None = None) -> Iterator[CommitInfo]:
        """The document's commits from start (default: its head) back along first parents."""
        sha = start or self.head(party, slug)
        while sha:
            info = self.commit(party, sha)
            yield info
            sha = info.parent

    def in_history(self, party: str, slug: str, sha: str) -> bool:
        """Whether sha is a commit of the document's own history."""
        check_sha(sha)
        try:
            self.commit(party, sha)
        except UnknownVersion:
            return False
        return any(info.sha == sha for info in self.history(party, slug))

    def verify_commit(
        self, party: str, sha: str, trusted: Sequence[TrustedKey] | None = None
    ) -> SignatureCheck:
        """Check a commit's signature against the keys the party signed with (default: the
        keys held here)."""
        if trusted is None:
            trusted = server_keys(self.keys, party, (GIT_NAMESPACE,))
        return check_signature(self.commit(party, sha), party, trusted)

    def commit_files(
        self,
        party: str,
        slug: str,
        files: Mapping[str, bytes],
        *,
        author: Identity,
        committer_name: str,
        message: str,
        precondition: Callable[[str | None], None] = lambda head: None,
    ) -> str:
        """Write files as one commit signed with the party's key held here; return its id.

        Every path must be the document's own (its text, metadata or attachment pointers).
        precondition(head) runs under the document's lock and raises to refuse the write, so
        the check and the ref update are one atomic step.
        """
        self._check_paths(slug, files)
        path = self._existing(party)
        party_keys = self.keys.current(party)
        reader = self.reader(party)
        with document_lock(path, slug), ObjectWriter(path / "objects", reader) as writer:
            head = read_ref(path, document_ref(slug))
            precondition(head)
            tree = writer.write_paths(self._root(party, head), files).hex()
            payload = self._payload(party, tree, head, author, committer_name, message)
            raw = signed_commit(payload, party_keys.sign(payload, GIT_NAMESPACE))
            sha = publish_commit(path, document_ref(slug), writer, raw, head)
        # The next write builds on this commit: parsing the bytes at hand spares reading it.
        self._remember_commit(party, parse_commit(sha, raw))
        return sha

    def prepare_commit(
        self,
        party: str,
        slug: str,
        files: Mapping[str, bytes],
        *,
        author: Identity,
        committer_name: str,
        message: str,
        precondition: Callable[[str | None], None] = lambda head: None,
    ) -> PreparedCommit:
        """Build the commit that would record files on the document's head, writing nothing.

        Its payload is what a signer outside the server signs; write_signed then writes it.
        """
        self._check_paths(slug, files)
        path = self._existing(party)
        head = read_ref(path, document_ref(slug))
        precondition(head)
        tree = TreeHasher(path / "objects", self.reader(party)).write_paths(
            self._root(party, head), files
        )
        payload = self._payload(party, tree.hex(), head, author, committer_name, message)
        return PreparedCommit(party, slug, head, dict(files), payload)

    def write_signed(self, prepared: PreparedCommit, signature: str) -> str:
        """Write a prepared commit with a signature made elsewhere; return its id.

        The caller has checked the signature. The head must not have moved since the commit
        was prepared: the payload names it as the parent, and a moved head is StaleVersion.
        """
        party, slug = prepared.party, prepared.slug
        path = self._existing(party)
        reader = self.reader(party)
        with document_lock(path, slug), ObjectWriter(path / "objects", reader) as writer:
            head = read_ref(path, document_ref(slug))
            if head != prepared.parent:
                raise StaleVersion(self.current_version(party, slug, head) if head else None)
            tree = writer.write_paths(self._root(party, head), prepared.files).hex()
            if tree != payload_tree(prepared.payload):
                raise ValueError("the prepared files do not make the tree the payload names")
            raw = signed_commit(prepared.payload, signature)
            sha = publish_commit(path, document_ref(slug), writer, raw, head)
        self._remember_commit(party, parse_commit(sha, raw))
        return sha

    @staticmethod
    def _check_paths(slug: str, files: Mapping[str, bytes]) -> None:
        strays = [name for name in files if not belongs_to_document(name, slug)]
        if strays:
            raise ValueError(f"{strays[0]} is not a file of document {slug}")

    def _root(self, party: str, head: str | None) -> bytes | None:
        return bytes.fromhex(self.commit(party, head).tree) if head else None

    @staticmethod
    def _payload(
        party: str,
        tree: str,
        head: str | None,
        author: Identity,
        committer_name: str,
        message: str,
    ) -> bytes:
        return commit_payload(
            tree=tree,
            parent=head,
            author=author,
            committer=Identity(committer_name, principal(party)),
            message=message,
            trailers=[("Peerlex-User", author.email), ("Peerlex-Party", party)],
        )

    # -- documents ----------------------------------------------------------------------------

    def _entries(self, party: str, commit: CommitInfo, slug: str) -> tuple[Any, Any]:
        reader = self.reader(party)
        root = bytes.fromhex(commit.tree)
        text_path, meta_path = document_paths(slug)
        return reader.entry_at(root, text_path), reader.entry_at(root, meta_path)

    def _metadata(self, party: str, entry: tuple[bytes, int] | None) -> dict[str, Any]:
        """The metadata in a document's .json entry ({} without one); a fresh dict each call."""
        if entry is None:
            return {}
        binsha = entry[0]
        with self._lock:
            raw = self._metadata_blobs.get(binsha)
        if raw is None:
            raw = self.reader(party).read(binsha, b"blob")
            with self._lock:
                self._metadata_blobs[binsha] = raw
                if len(self._metadata_blobs) > self._METADATA_CACHE_SIZE:
                    self._metadata_blobs.popitem(last=False)
        metadata: dict[str, Any] = json.loads(raw)
        return metadata

    def current_version(self, party: str, slug: str, at: str | None = None) -> str | None:
        """The newest commit at or before `at` (default: the document's head) that changed its
        text or metadata (commits that only attach files are not versions)."""
        check_slug(slug)
        sha = at or self.head(party, slug)
        walked: list[str] = []
        result: str | None = None
        while sha:
            key = (party, sha, slug)
            with self._lock:
                if key in self._versions:
                    result = self._versions[key]
                    break
            info = self.commit(party, sha)
            entries = self._entries(party, info, slug)
            if entries == (None, None):
                result = None
                walked.append(sha)
                break
            parent_entries = (
                self._entries(party, self.commit(party, info.parent), slug)
                if info.parent
                else (None, None)
            )
            walked.append(sha)
            if entries != parent_entries:
                result = sha
                break
            sha = info.parent
        with self._lock:
            for commit in walked:
                self._versions[(party, commit, slug)] = result
            while len(self._versions) > self._VERSION_CACHE_SIZE:
                self._versions.popitem(last=False)
        return result

    def resolve_version(self, party: str, slug: str, version: str | None) -> str:
        """Map a requested version (any commit of the document's history, or None for its head)
        to the version it holds; raise if it is not of this document."""
        if version is not None:
            check_sha(version)
            if not self.in_history(party, slug, version):
                raise UnknownVersion(f"{version} is not in the history of {party}/{slug}")
        resolved = self.current_version(party, slug, version)
        if resolved is None:
            raise DocumentNotFound(f"no document {slug!r} at that version")
        return resolved

    def read_document(self, party: str, slug: str, version: str | None = None) -> Document:
        """The document's text and metadata as of a version (default: current)."""
        return self._document_at(party, slug, self.resolve_version(party, slug, version))

    def _document_at(self, party: str, slug: str, resolved: str) -> Document:
        info = self.commit(party, resolved)
        text_entry, meta_entry = self._entries(party, info, slug)
        reader = self.reader(party)
        content = reader.read(text_entry[0], b"blob").decode() if text_entry else ""
        metadata = self._metadata(party, meta_entry)
        return Document(slug=slug, version=info, content=content, metadata=metadata)

    def versions(self, party: str, slug: str) -> list[CommitInfo]:
        """Every version of a document, newest first."""
        result: list[CommitInfo] = []
        version = self.current_version(party, slug)
        while version:
            info = self.commit(party, version)
            result.append(info)
            version = self.current_version(party, slug, info.parent) if info.parent else None
        return result

    def list_documents(self, party: str) -> list[DocumentSummary]:
        """Every document at its current version, sorted by slug."""
        summaries = []
        for slug in self.slugs(party):
            version = self.current_version(party, slug)
            if version is not None:
                _, meta_entry = self._entries(party, self.commit(party, version), slug)
                metadata = self._metadata(party, meta_entry)
                summaries.append(DocumentSummary(slug=slug, version=version, metadata=metadata))
        return summaries

    def unified_diff(self, party: str, slug: str, old: str | None, new: str) -> str:
        """What `git diff` prints for the document between two commits (old None: from nothing)."""
        return git_unified_diff(self._existing(party), slug, old, new)

    def document_files(
        self,
        party: str,
        slug: str,
        content: str,
        metadata: Mapping[str, Any],
        *,
        base: str | None,
    ) -> dict[str, bytes] | None:
        """The files a new version of the document writes: its text and its metadata.

        None when the version would change nothing (base is the current version and both
        files are as they are). Raises UnknownVersion for a base not of this document.
        """
        check_slug(slug)
        if base is not None:
            check_sha(base)
        head = self.head(party, slug)
        current = self.current_version(party, slug, head) if head else None
        if base is not None and base != current and not self.in_history(party, slug, base):
            raise UnknownVersion(f"base {base} is not in the history of {party}/{slug}")
        text = normalise_document_text(content).encode()
        text_entry = meta_entry = None
        if base is not None and base == current:
            # Editing the current version keeps its metadata unless told otherwise.
            text_entry, meta_entry = self._entries(party, self.commit(party, base), slug)
        meta = {
            **self._metadata(party, meta_entry),
            **{k: v for k, v in metadata.items() if v is not None},
        }
        meta_bytes = (
            json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        ).encode()
        if base is not None and base == current:
            unchanged = (git_blob_id(text), git_blob_id(meta_bytes))
            if (text_entry and text_entry[0], meta_entry and meta_entry[0]) == unchanged:
                return None
        text_path, meta_path = document_paths(slug)
        return {text_path: text, meta_path: meta_bytes}

    def still_based_on(
        self, party: str, slug: str, base: str | None
    ) -> Callable[[str | None], None]:
        """The precondition of a version edited from base: base is still the current version
        (no base: the document does not exist yet)."""

        def check(locked_head: str | None) -> None:
            now = self.current_version(party, slug, locked_head) if locked_head else None
            if base is None and now is not None:
                raise DocumentExists(now)
            if base is not None and now != base:
                raise StaleVersion(now)

        return check

    def remember_version(self, party: str, slug: str, sha: str) -> None:
        """Note that a new commit is the document's current version: the next write need not
        walk back to find it."""
        with self._lock:
            self._versions[(party, sha, slug)] = sha

    def put_document(
        self,
        party: str,
        slug: str,
        content: str,
        metadata: Mapping[str, Any],
        *,
        base: str | None,
        author: Identity,
        committer_name: str,
        message: str,
    ) -> tuple[str, bool]:
        """Create (no base) or update (base = the version edited from) a document.

        Returns (version, created). An update that changes nothing returns the current version
        without a new commit.
        """
        files = self.document_files(party, slug, content, metadata, base=base)
        if files is None:
            # Nothing changes: base is the current version.
            return base or "", False
        sha = self.commit_files(
            party,
            slug,
            files,
            author=author,
            committer_name=committer_name,
            message=message,
            precondition=self.still_based_on(party, slug, base),
        )
        self.remember_version(party, slug, sha)
        return sha, base is None
