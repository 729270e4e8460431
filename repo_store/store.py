"""One bare git repository per party, one history per document: signed commits, read by version.

Each document has its own ref, refs/documents/<slug>, whose commits hold only that document's
text, metadata and attachment pointers, so a signed commit discloses one document and nothing
else (docs/formats.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
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
from repo_store.errors import (
    DocumentExists,
    DocumentNotFound,
    LegacyLayout,
    RepositoryNotFound,
    StaleVersion,
    UnknownVersion,
)
from repo_store.locking import document_lock
from repo_store.names import SLUG, check_party, check_sha, check_slug
from repo_store.objects import (
    ObjectReader,
    ObjectWriter,
    fsync_path,
    object_id,
    start_writeback,
)

DOCUMENT_REFS = "refs/documents/"
# The first layout's single branch with every document of a party in one tree.
LEGACY_REF = "refs/heads/main"
# The id git gives the empty tree: the "before" of a document's first version.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
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


def document_ref(slug: str) -> str:
    """The ref whose history is the document's: its versions and attachment commits."""
    return DOCUMENT_REFS + check_slug(slug)


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


def _read_small_file(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 4096).decode()
    finally:
        os.close(fd)


class _BackgroundCloser:
    """Closes file descriptors on one daemon thread per process.

    Closing the last reference to a deleted file frees its blocks; where the file system
    discards freed blocks online (ext4 mounted with -o discard) that waits for the device,
    over a millisecond per file.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: queue.Queue[int] | None = None
        os.register_at_fork(after_in_child=self._forget_thread)

    def _forget_thread(self) -> None:
        # A forked child has the queue but not the thread that drains it: start afresh.
        self._lock = threading.Lock()
        self._pending = None

    def close(self, fd: int) -> None:
        with self._lock:
            if self._pending is None:
                # Bounded, so a burst of writes waits here rather than running out of files.
                self._pending = queue.Queue(maxsize=64)
                threading.Thread(
                    target=self._drain, args=(self._pending,), name="peerlex-close", daemon=True
                ).start()
            pending = self._pending
        pending.put(fd)

    @staticmethod
    def _drain(pending: queue.Queue[int]) -> None:
        while True:
            fd = pending.get()
            with contextlib.suppress(OSError):
                os.close(fd)


_closer = _BackgroundCloser()


def _open_if_exists(path: str) -> int | None:
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None


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
            if _read_ref(path, LEGACY_REF) is not None:
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
        return _read_ref(self._existing(party), document_ref(slug))

    def slugs(self, party: str) -> list[str]:
        """Every document of the party, sorted."""
        path = self._existing(party)
        names: set[str] = set()
        with contextlib.suppress(FileNotFoundError):
            names.update(os.listdir(path / DOCUMENT_REFS))
        names.update(
            ref.removeprefix(DOCUMENT_REFS)
            for ref in _packed_refs(path)
            if ref.startswith(DOCUMENT_REFS)
        )
        # A ref file that is not a slug (a git lock file, say) is not a document.
        return sorted(name for name in names if SLUG.fullmatch(name))

    @staticmethod
    def _stage_ref(path: Path, ref_name: str, new: str, old: str | None) -> tuple[str, int]:
        """Check that the ref is still old and write new to its lock file.

        Returns the lock file's path and its open descriptor. The caller holds the document
        lock, fsyncs the lock file together with the new objects, closes it and then calls
        _publish_ref.
        """
        ref = f"{path}/{ref_name}"
        if _read_ref(path, ref_name) != old:
            raise StaleVersion(_read_ref(path, ref_name))
        # git's own lock-file name, so a git process running by hand sees the ref as busy.
        lock = ref + ".lock"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        try:
            fd = os.open(lock, flags, 0o644)
        except FileNotFoundError:  # the first document of a repository: no refs/documents yet
            os.makedirs(os.path.dirname(ref), exist_ok=True)
            fsync_path(os.path.dirname(os.path.dirname(ref)))
            fd = os.open(lock, flags, 0o644)
        try:
            os.write(fd, f"{new}\n".encode())
            start_writeback(fd)
        except BaseException:
            os.close(fd)
            raise
        return lock, fd

    @staticmethod
    def _publish_ref(lock: str) -> None:
        """Atomically move the durable lock file over the ref and make the rename durable."""
        ref = lock.removesuffix(".lock")
        # Held open, the replaced ref file is freed when the background closer closes it, not
        # inside the rename (see _BackgroundCloser).
        replaced = _open_if_exists(ref)
        try:
            os.replace(lock, ref)
            fsync_path(os.path.dirname(ref))
        finally:
            if replaced is not None:
                _closer.close(replaced)

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
            head = _read_ref(path, ref)
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
            lock, lock_fd = self._stage_ref(path, ref, sha, head)
            try:
                writer.make_durable(also=[lock_fd])
            finally:
                os.close(lock_fd)
            self._publish_ref(lock)
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


def legacy_repositories(root: Path) -> list[str]:
    """The parties whose repository is in the first layout (one branch for everything)."""
    if not root.is_dir():
        return []
    return sorted(
        path.name.removesuffix(".git")
        for path in root.glob("*.git")
        if _read_ref(path, LEGACY_REF) is not None
    )


def check_layout(root: Path) -> None:
    """Raise LegacyLayout, naming the parties, if any repository is in the first layout."""
    legacy = legacy_repositories(root)
    if legacy:
        raise LegacyLayout(
            f"the repositories of {', '.join(legacy)} keep every document on one branch (the "
            "first layout); this version keeps one history per document and does not read "
            "them: start from a new data directory"
        )


def _packed_refs(path: Path) -> dict[str, str]:
    """ref -> commit from packed-refs (what `git pack-refs` or `git gc` leaves)."""
    try:
        text = (path / "packed-refs").read_text()
    except FileNotFoundError:
        return {}
    refs = {}
    for line in text.splitlines():
        if line.startswith(("#", "^")):
            continue
        sha, _, name = line.partition(" ")
        refs[name] = sha
    return refs


def _read_ref(path: Path, ref: str) -> str | None:
    """The commit a ref points at: its loose file, else packed-refs; None if there is none."""
    try:
        return _read_small_file(f"{path}/{ref}").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return _packed_refs(path).get(ref)
