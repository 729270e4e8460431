"""Offline verification of a final bundle: authenticated first, then checked against itself.

The order matters (docs/bundle.md): the tar's headers; the organiser's signature over
SHA256SUMS, by a key trusted for bundles; every file against SHA256SUMS, stopping at the first
failure; only then the manifest, against a strict schema; then every document, approval,
repository, attachment and the audit checkpoint, each cross-checked with the others. Needs only
git and OpenSSH's ssh-keygen on the machine; imports nothing of the server.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from clients.allowed_signers import (
    SignerKey,
    parse_allowed_signers,
    principals_for,
    render_allowed_signers,
)
from clients.bundle_archive import Archive, ArchiveRefused, Limits, open_archive
from clients.bundle_manifest import (
    ApprovalEntry,
    Manifest,
    ManifestError,
    RepositoryEntry,
    parse_manifest,
)
from clients.bundle_repos import (
    OBJECT_FILE,
    Budget,
    Git,
    GitObject,
    Repository,
    RepositoryError,
    commit_fields,
    expected_files,
    fresh_repository,
    read_object,
)
from clients.verify_report import Check
from keys import sshsig
from keys.age import AgeError, read_header_stanzas
from keys.age.header import MAX_HEADER
from keys.bundle_format import (
    ALLOWED_SIGNERS,
    APPROVAL_TYPE,
    MANIFEST,
    SUMS,
    SUMS_SIGNATURE,
    BundleFormatError,
    parse_sums,
)
from keys.merkle import DEPLOYMENT_PARTY, CheckpointError, parse_checkpoint
from keys.protocol import (
    APPROVAL_NAMESPACE,
    AUDIT_NAMESPACE,
    BUNDLE_NAMESPACE,
    party_of,
    principal,
)
from keys.statements import canonical_json

SIGNED_FILES = {SUMS, SUMS_SIGNATURE}
README = "README.txt"
_STATEMENT_TIME = "%Y-%m-%dT%H:%M:%SZ"
APPROVAL_FIELDS = {"type", "review", "party", "slug", "commit", "approved_at", "approved_by"}


class _Stop(Exception):
    """A check failed that every later check depends on: verification ends with it."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.check = Check(name, False, detail)


def _git_blob_id(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)  # git names objects by SHA-1
    digest.update(b"blob %d\x00" % path.stat().st_size)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_bundle(
    bundle: Path,
    allowed_signers: Path | None = None,
    *,
    now: datetime | None = None,
    limits: Limits | None = None,
) -> Iterator[Check]:
    """Yield every check of the bundle in order; the bundle is good when all are ok.

    Without allowed_signers the bundle's own keys are used: the checks then show only that
    the bundle is consistent, not who made it.
    """
    with tempfile.TemporaryDirectory(prefix="peerlex-verify-") as tmp:
        verifier = _Verifier(
            bundle, allowed_signers, Path(tmp), now or datetime.now(UTC), limits or Limits()
        )
        try:
            yield from verifier.run()
        except _Stop as stop:
            yield stop.check
        finally:
            verifier.close()


class _Verifier:
    def __init__(
        self, bundle: Path, trusted: Path | None, tmp: Path, now: datetime, limits: Limits
    ) -> None:
        self.bundle = bundle
        self.trusted = trusted
        self.tmp = tmp
        self.now = now
        self.limits = limits
        self.unpacked = tmp / "unpacked"  # the verifier's own copy of what it checked
        self.signers_file = tmp / "allowed_signers"  # the keys it trusts, as git reads them
        self.archive: Archive | None = None
        self.keys: list[SignerKey] = []
        self.sums: dict[str, str] = {}
        self.age_headers: dict[str, bytes] = {}

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    # -- authentication: nothing of the bundle is interpreted before it passes --------------

    def run(self) -> Iterator[Check]:
        try:
            archive = self.archive = open_archive(self.bundle, self.limits)
        except (ArchiveRefused, OSError) as exc:
            raise _Stop("archive", str(exc)) from exc
        for needed in (SUMS, SUMS_SIGNATURE, MANIFEST, ALLOWED_SIGNERS):
            if needed not in archive.members:
                raise _Stop("archive", f"{needed} is missing")
        yield Check("archive", True, f"{len(archive.members)} files in {archive.root}/")
        yield self._load_signers(archive)
        sums = self._small(archive, SUMS)
        signer, check = self._check_sums_signature(archive, sums)
        yield check
        yield self._check_sums(archive, sums)
        manifest = self._manifest()
        yield Check("manifest.json", True, f"review {manifest.review}")
        yield self._check_signer(manifest, signer, archive.root)
        yield from self._check_inventory(manifest, archive)
        yield from self._cross_check(manifest)
        yield from self._check_documents(manifest)
        yield from self._check_approvals(manifest)
        yield from self._check_repositories(manifest, archive)
        yield from self._check_attachments(manifest)
        yield from self._check_audit_checkpoint(manifest)

    def _small(self, archive: Archive, name: str) -> bytes:
        try:
            return archive.read_small(name, self.limits.max_small_file)
        except (ArchiveRefused, OSError) as exc:
            raise _Stop(name, str(exc)) from exc

    def _load_signers(self, archive: Archive) -> Check:
        if self.trusted is not None:
            try:
                raw = self.trusted.read_bytes()
            except OSError as exc:
                raise _Stop("allowed signers", f"cannot read {self.trusted}: {exc}") from exc
            source = f"the trusted file {self.trusted}"
        else:
            raw = self._small(archive, ALLOWED_SIGNERS)
            source = "the bundle's own allowed_signers (not a trusted list)"
        self.keys = parse_allowed_signers(raw.decode("utf-8", "replace"))
        if not self.keys:
            raise _Stop("allowed signers", f"no usable ssh-ed25519 key in {source}")
        self.signers_file.write_text(render_allowed_signers(self.keys))
        return Check("allowed signers", True, f"{len(self.keys)} keys from {source}")

    def _check_sums_signature(self, archive: Archive, sums: bytes) -> tuple[str, Check]:
        """The signature first, by a key trusted for bundles now; its party signed the bundle."""
        signature = self._small(archive, SUMS_SIGNATURE)
        try:
            verified = sshsig.verify(signature, sums, BUNDLE_NAMESPACE)
        except sshsig.SignatureError as exc:
            raise _Stop(SUMS_SIGNATURE, str(exc)) from exc
        key = sshsig.public_key_line(verified.public_key)
        parties = {
            party
            for name in principals_for(self.keys, key, BUNDLE_NAMESPACE, self.now)
            if (party := party_of(name)) is not None
        }
        if len(parties) != 1:
            raise _Stop(
                SUMS_SIGNATURE,
                f"signed by {verified.fingerprint}, which is not one party's key trusted to "
                f"sign bundles ({BUNDLE_NAMESPACE}) at {self.now:%Y-%m-%d %H:%M:%S} UTC",
            )
        signer = parties.pop()
        return signer, Check(SUMS_SIGNATURE, True, f"signed by {signer} ({verified.fingerprint})")

    def _check_sums(self, archive: Archive, sums: bytes) -> Check:
        """Every file against SHA256SUMS, hashed as it streams; the first mismatch ends it."""
        try:
            self.sums = parse_sums(sums)
        except (BundleFormatError, UnicodeDecodeError) as exc:
            raise _Stop(SUMS, str(exc)) from exc
        names = set(archive.members) - SIGNED_FILES
        added, removed = sorted(names - set(self.sums)), sorted(set(self.sums) - names)
        if added:
            raise _Stop(f"{SUMS} {added[0]}", "file is not listed (added?)")
        if removed:
            raise _Stop(f"{SUMS} {removed[0]}", "listed but missing (removed?)")
        for name in sorted(names):
            attachment = name.startswith("attachments/")
            try:
                # Attachments are only hashed (and their age header kept): nothing reads them.
                digest, head = archive.copy_hashed(
                    name,
                    None if attachment else self.unpacked / name,
                    MAX_HEADER if attachment else 0,
                )
            except (ArchiveRefused, OSError) as exc:
                raise _Stop(f"{SUMS} {name}", f"cannot be read: {exc}") from exc
            if digest != self.sums[name]:
                raise _Stop(f"{SUMS} {name}", "sha256 does not match (changed?)")
            if attachment:
                self.age_headers[name] = head
        return Check(SUMS, True, f"{len(self.sums)} files match")

    def _manifest(self) -> Manifest:
        path = self.unpacked / MANIFEST
        if path.stat().st_size > self.limits.max_small_file:
            raise _Stop(MANIFEST, "too large")
        try:
            return parse_manifest(path.read_bytes())
        except ManifestError as exc:
            raise _Stop(MANIFEST, str(exc)) from exc

    def _check_signer(self, manifest: Manifest, signer: str, root: str) -> Check:
        if manifest.review != root:
            raise _Stop(MANIFEST, f"names review {manifest.review}, the folder is {root}")
        if manifest.signed_by != signer:
            raise _Stop("signer", f"manifest.json says {manifest.signed_by}, the key is {signer}'s")
        if signer not in manifest.organisers:
            raise _Stop("signer", f"{signer} is not an organiser of {manifest.review}")
        return Check("signer", True, f"{signer}, an organiser of {manifest.review}")

    # -- the bundle against itself ------------------------------------------------------------

    def _check_inventory(self, manifest: Manifest, archive: Archive) -> Iterator[Check]:
        """Every file is one the manifest names (or a part of a repository it names)."""
        named = {README, MANIFEST, ALLOWED_SIGNERS, *SIGNED_FILES}
        named |= {manifest.audit.statement, manifest.audit.signature}
        named |= {f"documents/{d.party}/{d.slug}.md" for d in manifest.documents}
        named |= {a.statement for a in manifest.approvals} | {
            a.signature for a in manifest.approvals
        }
        named |= {a.file for a in manifest.attachments}
        prefixes = tuple(f"{r.path}/" for r in manifest.repositories)
        unnamed = sorted(
            n for n in archive.members if n not in named and not n.startswith(prefixes)
        )
        missing = sorted(n for n in named - {README} if n not in archive.members)
        for name in unnamed:
            yield Check(f"file {name}", False, "manifest.json does not name it")
        for name in missing:
            yield Check(f"file {name}", False, "manifest.json names it, the bundle lacks it")
        if not unnamed and not missing:
            yield Check("inventory", True, "every file is named by manifest.json")

    def _cross_check(self, manifest: Manifest) -> Iterator[Check]:
        """Each document has its repository entry and its approval, all at the same commit."""
        documents = {(d.party, d.slug): d.commit for d in manifest.documents}
        approvals = {(a.party, a.slug): a.commit for a in manifest.approvals}
        refs = {(r.party, s): c for r in manifest.repositories for s, c in r.commits.items()}
        for key in sorted(set(documents) | set(approvals) | set(refs)):
            party, slug = key
            name = f"agreement {party}/{slug}"
            problems = []
            if key not in documents:
                problems.append("no document in manifest.json")
            if key not in approvals:
                problems.append("no approval")
            if key not in refs:
                problems.append("no repository entry")
            if len({d[key] for d in (documents, approvals, refs) if key in d}) > 1:
                problems.append("document, approval and repository name different commits")
            if party not in manifest.states:
                problems.append(f"{party} is not a State of the review")
            if problems:
                yield Check(name, False, "; ".join(problems))
            else:
                yield Check(name, True, f"approved at {documents[key][:12]}")
        for entry in manifest.attachments:
            if (entry.party, entry.slug) not in documents:
                yield Check(f"attachment {entry.file}", False, "of no approved document")
        if not documents:
            yield Check("agreement", False, "manifest.json names no document")

    def _check_documents(self, manifest: Manifest) -> Iterator[Check]:
        for doc in manifest.documents:
            name = f"documents/{doc.party}/{doc.slug}.md"
            if self.sums.get(name) != doc.sha256:
                yield Check(f"document {name}", False, "sha256 differs from manifest.json")
            else:
                yield Check(f"document {name}", True, f"commit {doc.commit[:12]}")

    def _verify_signed(
        self, party: str, signature: bytes, message: bytes, namespace: str, at: datetime
    ) -> str:
        """The fingerprint, if party had a key trusted for namespace at at that signed it."""
        verified = sshsig.verify(signature, message, namespace)
        key = sshsig.public_key_line(verified.public_key)
        if principal(party) not in principals_for(self.keys, key, namespace, at):
            raise sshsig.SignatureError(
                f"signed by {verified.fingerprint}, not a key of {party} trusted for "
                f"{namespace} at {at:%Y-%m-%d %H:%M:%S} UTC"
            )
        return verified.fingerprint

    def _read(self, name: str) -> bytes:
        path = self.unpacked / name
        if path.stat().st_size > self.limits.max_small_file:
            raise ValueError(f"{name} is too large")
        return path.read_bytes()

    def _check_approvals(self, manifest: Manifest) -> Iterator[Check]:
        for entry in manifest.approvals:
            name = f"approval {entry.signature}"
            try:
                detail = self._check_approval(manifest, entry)
            except (ValueError, sshsig.SignatureError, OSError) as exc:
                yield Check(name, False, str(exc))
                continue
            yield Check(name, True, detail)

    def _check_approval(self, manifest: Manifest, entry: ApprovalEntry) -> str:
        statement = self._read(entry.statement)
        try:
            data = json.loads(statement)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ValueError(f"{entry.statement} is not JSON") from exc
        if not isinstance(data, dict) or set(data) != APPROVAL_FIELDS:
            raise ValueError(f"{entry.statement} must have exactly {sorted(APPROVAL_FIELDS)}")
        if canonical_json(data) != statement:
            raise ValueError(f"{entry.statement} is not in canonical form")
        if data["type"] != APPROVAL_TYPE:
            raise ValueError(f"{entry.statement} is not a {APPROVAL_TYPE} statement")
        if data["review"] != manifest.review:
            raise ValueError(f"{entry.statement} approves for another review")
        expected = {
            "party": entry.party,
            "slug": entry.slug,
            "commit": entry.commit,
            "approved_by": entry.approved_by,
        }
        for key, value in expected.items():
            if data[key] != value:
                raise ValueError(f"{entry.statement}: {key} differs from manifest.json")
        try:
            at = datetime.strptime(str(data["approved_at"]), _STATEMENT_TIME).replace(tzinfo=UTC)
        except ValueError as exc:
            raise ValueError(f"{entry.statement}: approved_at is not a UTC time") from exc
        fingerprint = self._verify_signed(
            entry.party, self._read(entry.signature), statement, APPROVAL_NAMESPACE, at
        )
        return f"{entry.party} approved {entry.slug} at {entry.commit[:12]} ({fingerprint})"

    def _check_repositories(self, manifest: Manifest, archive: Archive) -> Iterator[Check]:
        budget = Budget(self.limits.max_inflated, self.limits.max_object, self.limits.max_held)
        try:
            git = Git(self.tmp, self.signers_file)
        except RepositoryError as exc:
            yield Check("repositories", False, str(exc))
            return
        for entry in manifest.repositories:
            name = f"repository {entry.path}"
            try:
                repository, detail = self._checked_repository(archive, entry, budget)
            except (RepositoryError, OSError) as exc:
                yield Check(name, False, str(exc))
                continue
            fresh = fresh_repository(
                self.tmp / "git" / f"{entry.party}.git", repository, entry.commits
            )
            complaint = git.fsck(fresh)
            if complaint is not None:
                yield Check(name, False, f"git fsck --strict: {complaint}")
                continue
            yield Check(name, True, f"{detail}, git fsck --strict")
            for slug, commit in sorted(entry.commits.items()):
                yield self._check_commit(git, fresh, repository, entry.party, slug, commit)

    def _checked_repository(
        self, archive: Archive, entry: RepositoryEntry, budget: Budget
    ) -> tuple[Repository, str]:
        """The repository's files are exactly the prescribed ones and its objects' closure."""
        prefix = f"{entry.path}/"
        inside = {n[len(prefix) :] for n in archive.members if n.startswith(prefix)}
        for file_name, data in expected_files(entry.commits).items():
            if file_name not in inside:
                raise RepositoryError(f"{file_name} is missing")
            if self._read(prefix + file_name) != data:
                raise RepositoryError(f"{file_name} is not as the bundle format prescribes")
            inside.discard(file_name)
        objects: dict[str, GitObject] = {}
        files: dict[str, Path] = {}
        for file_name in sorted(inside):
            match = OBJECT_FILE.fullmatch(file_name)
            if match is None:
                raise RepositoryError(f"{file_name} has no place in a bundle repository")
            sha = match.group(1) + match.group(2)
            path = self.unpacked / (prefix + file_name)
            objects[sha] = read_object(path, budget)
            files[sha] = path
        repository = Repository(objects, files)
        reachable = repository.reachable(set(entry.commits.values()))
        extra = sorted(set(objects) - reachable)
        if extra:
            raise RepositoryError(f"holds {len(extra)} object(s) outside the approved commits")
        return repository, f"{len(objects)} objects, each named by its content"

    def _check_commit(
        self, git: Git, fresh: Path, repository: Repository, party: str, slug: str, commit: str
    ) -> Check:
        label = f"commit {party}/{slug} {commit[:12]}"
        try:
            _tree, committer = commit_fields(repository.objects[commit].data or b"")
            if committer != principal(party):
                return Check(label, False, f"committed by {committer}, not {party}")
            signed = git.verify_commit(fresh, commit)
            if isinstance(signed, str):
                return Check(label, False, f"git verify-commit: {signed}")
            if signed[0] != principal(party):
                return Check(label, False, f"signed by {signed[0]}, not {party}")
            found = repository.path_in(commit, f"documents/{slug}.md")
        except RepositoryError as exc:
            return Check(label, False, str(exc))
        document = self.unpacked / f"documents/{party}/{slug}.md"
        if found is None or not document.exists() or found[0] != _git_blob_id(document):
            return Check(label, False, f"documents/{party}/{slug}.md differs from the commit")
        return Check(label, True, f"signed by {party} ({signed[1]}), text matches")

    def _check_attachments(self, manifest: Manifest) -> Iterator[Check]:
        for entry in manifest.attachments:
            name = f"attachment {entry.file}"
            try:
                stanzas = read_header_stanzas(io.BytesIO(self.age_headers.get(entry.file, b"")))
            except AgeError as exc:
                yield Check(name, False, f"not an age file: {exc}")
                continue
            if len(stanzas) != len(entry.recipients):
                yield Check(name, False, "encrypted to other recipients than manifest.json says")
                continue
            yield Check(name, True, f"age, {len(stanzas)} offline recipient(s)")

    def _check_audit_checkpoint(self, manifest: Manifest) -> Iterator[Check]:
        """The audit log's signed tree head, signed by the deployment key at its own time."""
        entry = manifest.audit
        name = f"audit checkpoint {entry.statement}"
        try:
            statement = self._read(entry.statement)
            size, root, time = parse_checkpoint(statement)
            if (size, root.hex(), time) != (entry.size, entry.root, entry.time):
                raise ValueError(f"{entry.statement} does not match manifest.json")
            if entry.signer != principal(DEPLOYMENT_PARTY):
                raise ValueError(f"signer {entry.signer} is not the deployment")
            at = datetime.strptime(time, _STATEMENT_TIME).replace(tzinfo=UTC)
            fingerprint = self._verify_signed(
                DEPLOYMENT_PARTY, self._read(entry.signature), statement, AUDIT_NAMESPACE, at
            )
        except (CheckpointError, ValueError, sshsig.SignatureError, OSError) as exc:
            yield Check(name, False, str(exc))
            return
        yield Check(name, True, f"{size} entries, root {root.hex()[:16]}, {time} ({fingerprint})")
