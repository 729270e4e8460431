"""One bare git repository per party, one history per document: signed commits, read by version.

Each document has its own ref, refs/documents/<slug>, whose commits hold only that document's
text, metadata and attachment pointers, so a signed commit discloses one document and nothing
else (docs/formats.md). The refs themselves are repo_store.refs; a document's shape in the
tree is repo_store.documents.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import git

from keys.party_keys import KeyStore
from keys.protocol import GIT_NAMESPACE, principal
from repo_store.commits import (
    CommitInfo,
    Identity,
    SignatureCheck,
    build_commit,
    check_signature,
    parse_commit,
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
from repo_store.locking import document_lock
from repo_store.names import check_party, check_sha, check_slug
from repo_store.objects import ObjectReader, ObjectWriter
from repo_store.refs import (
    check_layout,
    document_ref,
    document_slugs,
    in_first_layout,
    publish_ref,
    read_ref,
    stage_ref,
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

# The id git gives the empty tree: the "before" of a document's first version.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


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

    def verify_commit(self, party: str, sha: str) -> SignatureCheck:
        """Check a commit's signature against every key the party has had."""
        trusted = [key.public_key for key in self.keys.verifying_keys(party)]
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
        """Write files as one signed commit on top of the document's head; return its id.

        Every path must be the document's own (its text, metadata or attachment pointers).
        precondition(head) runs under the document's lock and raises to refuse the write, so
        the check and the ref update are one atomic step.
        """
        ref = document_ref(slug)
        strays = [name for name in files if not belongs_to_document(name, slug)]
        if strays:
            raise ValueError(f"{strays[0]} is not a file of document {slug}")
        path = self._existing(party)
        reader = self.reader(party)
        party_keys = self.keys.current(party)
        with document_lock(path, slug), ObjectWriter(path / "objects", reader) as writer:
            head = read_ref(path, ref)
            precondition(head)
            root = bytes.fromhex(self.commit(party, head).tree) if head else None
            tree = writer.write_paths(root, files).hex()
            raw = build_commit(
                tree=tree,
                parent=head,
                author=author,
                committer=Identity(committer_name, principal(party)),
                message=message,
                trailers=[("Peerlex-User", author.email), ("Peerlex-Party", party)],
                sign=lambda payload: party_keys.sign(payload, GIT_NAMESPACE),
            )
            sha = writer.write(b"commit", raw).hex()
            # Objects and the new ref value are durable before the ref moves: a crash at any
            # point leaves either the old head or the new one, never a dangling ref.
            lock, lock_fd = stage_ref(path, ref, sha, head)
            try:
                writer.make_durable(also=[lock_fd])
            finally:
                os.close(lock_fd)
            publish_ref(lock)
        # The next write builds on this commit: parsing the bytes at hand spares reading it.
        self._remember_commit(party, parse_commit(sha, raw))
        return sha

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
        check_slug(slug)
        check_sha(new)
        path = self._existing(party)
        text_path, _ = document_paths(slug)
        # Both ends are validated commit ids and the path is a validated slug: no user input
        # can become an option here.
        result = subprocess.run(
            [
                "git",
                f"--git-dir={path}",
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--end-of-options",
                check_sha(old) if old else EMPTY_TREE,
                new,
                "--",
                text_path,
            ],
            capture_output=True,
            check=True,
        )
        return result.stdout.decode("utf-8", "replace")

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
                return base, False
        text_path, meta_path = document_paths(slug)

        def still_current(locked_head: str | None) -> None:
            now = self.current_version(party, slug, locked_head) if locked_head else None
            if base is None and now is not None:
                raise DocumentExists(now)
            if base is not None and now != base:
                raise StaleVersion(now)

        sha = self.commit_files(
            party,
            slug,
            {text_path: text, meta_path: meta_bytes},
            author=author,
            committer_name=committer_name,
            message=message,
            precondition=still_current,
        )
        with self._lock:
            # The new commit is the document's current version: the next write need not walk.
            self._versions[(party, sha, slug)] = sha
        return sha, base is None
