"""Offline verification of a final bundle: every signature, checksum, history and file.

Needs only git and OpenSSH's ssh-keygen on the machine (for `git verify-commit`); imports
nothing of the server. Each check names the file it is about, so a failure says what changed.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys import sshsig
from keys.age import AgeError, read_header_stanzas
from keys.bundle_format import (
    ALLOWED_SIGNERS,
    APPROVAL_NAMESPACE,
    BUNDLE_NAMESPACE,
    MANIFEST,
    SUMS,
    SUMS_SIGNATURE,
    BundleFormatError,
    parse_sums,
    sha256_hex,
)
from keys.merkle import AUDIT_NAMESPACE, DEPLOYMENT_PARTY, CheckpointError, parse_checkpoint

SIGNED_FILES = {SUMS, SUMS_SIGNATURE}


@dataclass(frozen=True)
class Check:
    """One verification step and its outcome."""

    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}" + (
            f": {self.detail}" if self.detail else ""
        )


class _Failed(Exception):
    """A check failed so badly that the ones after it cannot run."""


def parse_allowed_signers(text: str) -> dict[str, list[Ed25519PublicKey]]:
    """principal -> public keys, from an allowed_signers file (options are not needed here)."""
    signers: dict[str, list[Ed25519PublicKey]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        principal, _, rest = line.partition(" ")
        at = rest.find("ssh-ed25519 ")
        if at < 0:
            continue
        signers.setdefault(principal, []).append(sshsig.parse_public_key_line(rest[at:]))
    return signers


def _principal(party: str) -> str:
    return f"{party.lower()}@parties.peerlex"


def _signed_by(
    signers: dict[str, list[Any]], party: str, armored: bytes, message: bytes, namespace: str
) -> str:
    verified = sshsig.verify(armored, message, namespace)
    raw = {sshsig.public_key_line(k) for k in signers.get(_principal(party), [])}
    if sshsig.public_key_line(verified.public_key) not in raw:
        raise sshsig.SignatureError(f"signed by {verified.fingerprint}, not a key of {party}")
    return verified.fingerprint


def _extract(bundle: Path, into: Path) -> Path:
    """Unpack safely (no links, no absolute or parent paths) and return the one top folder."""
    with tarfile.open(bundle) as tar:
        members = tar.getmembers()
        roots = {m.name.split("/", 1)[0] for m in members}
        if len(roots) != 1:
            raise _Failed("the archive must hold exactly one top-level folder")
        for member in members:
            if (
                not (member.isfile() or member.isdir())
                or member.name.startswith("/")
                or (".." in member.name.split("/"))
            ):
                raise _Failed(f"unsafe entry {member.name!r}")
        tar.extractall(into, filter="data")
    return into / roots.pop()


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)


def verify_bundle(bundle: Path, allowed_signers: Path | None = None) -> Iterator[Check]:
    """Yield every check of the bundle in order; the bundle is good when all are ok."""
    with tempfile.TemporaryDirectory(prefix="peerlex-verify-") as tmp:
        try:
            yield from _verify(bundle, Path(tmp), allowed_signers)
        except _Failed as exc:
            yield Check("bundle", False, str(exc))


def _verify(bundle: Path, tmp: Path, trusted: Path | None) -> Iterator[Check]:
    try:
        root = _extract(bundle, tmp / "unpacked")
    except (tarfile.TarError, OSError) as exc:
        raise _Failed(f"not a readable tar archive: {exc}") from exc
    yield Check("archive", True, f"unpacked {root.name}/")
    files = _files(root)
    for needed in (SUMS, SUMS_SIGNATURE, MANIFEST, ALLOWED_SIGNERS):
        if needed not in files:
            raise _Failed(f"{needed} is missing")
    signers_file = trusted or files[ALLOWED_SIGNERS]
    signers = parse_allowed_signers(signers_file.read_text())
    source = f"trusted file {trusted}" if trusted else "the bundle's own allowed_signers"
    yield Check("allowed signers", True, f"{sum(map(len, signers.values()))} keys from {source}")

    manifest_bytes = files[MANIFEST].read_bytes()
    try:
        manifest = json.loads(manifest_bytes)
        organiser = manifest["signed_by"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _Failed(f"{MANIFEST} is not a peerlex manifest") from exc
    sums_bytes = files[SUMS].read_bytes()
    try:
        fingerprint = _signed_by(
            signers, organiser, files[SUMS_SIGNATURE].read_bytes(), sums_bytes, BUNDLE_NAMESPACE
        )
        yield Check(f"{SUMS_SIGNATURE}", True, f"signed by {organiser} ({fingerprint})")
    except sshsig.SignatureError as exc:
        yield Check(f"{SUMS_SIGNATURE}", False, str(exc))

    try:
        sums = parse_sums(sums_bytes)
    except (BundleFormatError, UnicodeDecodeError) as exc:
        raise _Failed(str(exc)) from exc
    failures = 0
    for name, path in files.items():
        if name in SIGNED_FILES:
            continue
        if name not in sums:
            failures += 1
            yield Check(f"{SUMS} {name}", False, "file is not listed (added?)")
        elif sha256_hex(path.read_bytes()) != sums[name]:
            failures += 1
            yield Check(f"{SUMS} {name}", False, "sha256 does not match (changed?)")
    for name in sorted(set(sums) - set(files)):
        failures += 1
        yield Check(f"{SUMS} {name}", False, "listed but missing (removed?)")
    if not failures:
        yield Check(SUMS, True, f"{len(sums)} files match")

    yield from _check_documents(manifest, files)
    yield from _check_approvals(manifest, files, signers)
    yield from _check_repositories(manifest, files, signers_file, tmp)
    yield from _check_attachments(manifest, files)
    yield from _check_audit_checkpoint(manifest, files, signers)


def _check_documents(manifest: dict[str, Any], files: dict[str, Path]) -> Iterator[Check]:
    for doc in manifest.get("documents", []):
        name = f"documents/{doc['party']}/{doc['slug']}.md"
        path = files.get(name)
        if path is None:
            yield Check(f"document {name}", False, "missing")
        elif sha256_hex(path.read_bytes()) != doc["sha256"]:
            yield Check(f"document {name}", False, "sha256 differs from manifest.json")
        else:
            yield Check(f"document {name}", True, f"commit {doc['commit'][:12]}")


def _check_approvals(
    manifest: dict[str, Any], files: dict[str, Path], signers: dict[str, list[Any]]
) -> Iterator[Check]:
    review = manifest.get("review", {}).get("slug")
    for entry in manifest.get("approvals", []):
        party, slug = entry["party"], entry["slug"]
        statement_path, signature_path = (
            files.get(entry["statement"]),
            files.get(entry["signature"]),
        )
        name = f"approval {entry['signature']}"
        if statement_path is None or signature_path is None:
            yield Check(name, False, "statement or signature missing")
            continue
        statement_bytes = statement_path.read_bytes()
        try:
            statement = json.loads(statement_bytes)
        except ValueError:
            yield Check(name, False, f"{entry['statement']} is not JSON")
            continue
        expected = {"review": review, "party": party, "slug": slug, "commit": entry["commit"]}
        if any(statement.get(k) != v for k, v in expected.items()):
            yield Check(name, False, f"{entry['statement']} does not match manifest.json")
            continue
        try:
            fingerprint = _signed_by(
                signers, party, signature_path.read_bytes(), statement_bytes, APPROVAL_NAMESPACE
            )
            yield Check(
                name, True, f"{party} approved {slug} at {entry['commit'][:12]} ({fingerprint})"
            )
        except sshsig.SignatureError as exc:
            yield Check(name, False, str(exc))


def _check_repositories(
    manifest: dict[str, Any], files: dict[str, Path], signers_file: Path, tmp: Path
) -> Iterator[Check]:
    for repo in manifest.get("repositories", []):
        party, bundle_name = repo["party"], repo["file"]
        bundle = files.get(bundle_name)
        name = f"repository {bundle_name}"
        if bundle is None:
            yield Check(name, False, "missing")
            continue
        work = tmp / f"git-{party}"
        _git(tmp, "init", "--quiet", str(work))
        verified = _git(work, "bundle", "verify", "--quiet", str(bundle.resolve()))
        if verified.returncode != 0:
            yield Check(
                name,
                False,
                "git bundle verify failed: "
                + verified.stderr.decode(errors="replace").strip().splitlines()[-1:][0]
                if verified.stderr.strip()
                else "git bundle verify failed",
            )
            continue
        _git(work, "fetch", "--quiet", str(bundle.resolve()), "refs/peerlex/*:refs/peerlex/*")
        yield Check(name, True, "git bundle verify")
        for ref, commit in sorted(repo["refs"].items()):
            slug = ref.rsplit("/", 1)[-1]
            label = f"commit {party}/{slug} {commit[:12]}"
            head = _git(work, "rev-parse", "--verify", "--end-of-options", ref).stdout.strip()
            if head.decode() != commit:
                yield Check(label, False, f"{ref} in the git bundle is not the approved commit")
                continue
            signed = _git(
                work,
                "-c",
                f"gpg.ssh.allowedSignersFile={signers_file.resolve()}",
                "verify-commit",
                commit,
            )
            if signed.returncode != 0:
                yield Check(label, False, "git verify-commit failed")
                continue
            text = _git(work, "show", f"{commit}:documents/{slug}.md").stdout
            document = files.get(f"documents/{party}/{slug}.md")
            if document is None or document.read_bytes() != text:
                yield Check(label, False, f"documents/{party}/{slug}.md differs from the commit")
                continue
            yield Check(label, True, "signature good, text matches")


def _check_attachments(manifest: dict[str, Any], files: dict[str, Path]) -> Iterator[Check]:
    for entry in manifest.get("attachments", []):
        name = f"attachment {entry['file']}"
        path = files.get(entry["file"])
        if path is None:
            yield Check(name, False, "missing")
            continue
        try:
            with path.open("rb") as handle:
                stanzas = read_header_stanzas(handle)
        except AgeError as exc:
            yield Check(name, False, f"not an age file: {exc}")
            continue
        if len(stanzas) != len(entry["recipients"]):
            yield Check(name, False, "encrypted to other recipients than manifest.json says")
            continue
        yield Check(name, True, f"age, {len(stanzas)} offline recipient(s)")


def _check_audit_checkpoint(
    manifest: dict[str, Any], files: dict[str, Path], signers: dict[str, list[Any]]
) -> Iterator[Check]:
    """The audit log's signed tree head: signed by the deployment key, as manifest.json says."""
    entry = manifest.get("audit_checkpoint")
    if not isinstance(entry, dict):
        yield Check("audit checkpoint", False, "manifest.json names no audit checkpoint")
        return
    statement_path, signature_path = files.get(entry["statement"]), files.get(entry["signature"])
    name = f"audit checkpoint {entry['statement']}"
    if statement_path is None or signature_path is None:
        yield Check(name, False, "statement or signature missing")
        return
    statement = statement_path.read_bytes()
    try:
        size, root, time = parse_checkpoint(statement)
    except CheckpointError as exc:
        yield Check(name, False, str(exc))
        return
    if (size, root.hex(), time) != (entry.get("size"), entry.get("root"), entry.get("time")):
        yield Check(name, False, f"{entry['statement']} does not match manifest.json")
        return
    try:
        fingerprint = _signed_by(
            signers, DEPLOYMENT_PARTY, signature_path.read_bytes(), statement, AUDIT_NAMESPACE
        )
    except sshsig.SignatureError as exc:
        yield Check(name, False, str(exc))
        return
    yield Check(name, True, f"{size} entries, root {root.hex()[:16]}, {time} ({fingerprint})")
