"""`peerlex verify` passes a genuine bundle, names what fails in a tampered one, refuses what it
must not unpack, and trusts no signer, path or text the bundle does not prove."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clients.bundle_archive import Limits
from clients.cli import main
from clients.cli.exits import EXIT_SIGNERS_UNCHECKED
from clients.verify import verify_bundle
from clients.verify_report import Check
from keys import sshsig
from keys.statements import canonical_json
from repo_store.shallow_repos import approved_repository
from server.services.context import Services
from tests.bundle_fixtures import Agreed
from tests.server.review_fixtures import LAW_V1

Files = dict[str, bytes]
R = "dushanbe-2017/"


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    assert handle is not None, member.name
    return handle.read()


def unpack(bundle: Path) -> Files:
    with tarfile.open(bundle) as tar:
        return {m.name: _read(tar, m) for m in tar.getmembers() if m.isfile()}


def pack(files: Files, out: Path) -> Path:
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def rewrite(bundle: Path, out: Path, change: Callable[[Files], None]) -> Path:
    """Unpack, change, repack (files only, sorted)."""
    files = unpack(bundle)
    change(files)
    return pack(files, out)


def flip(name: str, at: int = -40) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        data = bytearray(files[name])
        data[at] ^= 0x01
        files[name] = bytes(data)

    return change


def failures(bundle: Path, trusted: Path | None = None, **kwargs: Any) -> list[str]:
    return [c.line() for c in verify_bundle(bundle, trusted, **kwargs) if not c.ok]


def refused(bundle: Path, trusted: Path) -> list[str]:
    """`peerlex verify` prints NOT VERIFIED and exits 1; the FAIL lines name the checks."""
    result = CliRunner().invoke(main, ["verify", str(bundle), "--allowed-signers", str(trusted)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1].startswith("NOT VERIFIED: "), result.output
    return [line for line in result.output.splitlines() if line.startswith("FAIL ")]


def services(agreed: Agreed) -> Services:
    found: Services = agreed.app.extensions["peerlex.services"]
    return found


def published_signers(agreed: Agreed, tmp_path: Path) -> Path:
    """The deployment's allowed_signers as GET /api/v1/allowed_signers publishes it."""
    response = agreed.world["organiser"].get("/api/v1/allowed_signers")
    assert response.status_code == 200
    path = tmp_path / "published_signers"
    path.write_bytes(response.data)
    return path


@dataclass
class Forger:
    """Someone holding a bundle key the verifier trusts (say, a rogue organiser): every forged
    bundle is re-signed, so only the checks of what the bundle claims can catch it."""

    key: Ed25519PrivateKey
    trusted: Path

    def resign(self, files: Files) -> None:
        body = {n: d for n, d in files.items() if n not in (R + "SHA256SUMS", R + "SHA256SUMS.sig")}
        sums = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {name.removeprefix(R)}\n"
            for name, data in sorted(body.items())
        ).encode()
        files[R + "SHA256SUMS"] = sums
        files[R + "SHA256SUMS.sig"] = sshsig.sign(self.key, sums, "peerlex-bundle").encode()

    def forge(self, agreed: Agreed, out: Path, change: Callable[[Files], None]) -> Path:
        files = unpack(agreed.bundle)
        change(files)
        self.resign(files)
        return pack(files, out)


def make_forger(agreed: Agreed, tmp_path: Path, as_party: str = "UNRCPD") -> Forger:
    key = Ed25519PrivateKey.generate()
    trusted = published_signers(agreed, tmp_path)
    line = sshsig.public_key_line(key.public_key())
    with trusted.open("a") as handle:
        handle.write(f'{as_party.lower()}@parties.peerlex namespaces="git,peerlex-bundle" {line}\n')
    return Forger(key, trusted)


def manifest_of(files: Files) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files[R + "manifest.json"])
    return loaded


def set_manifest(files: Files, manifest: Any) -> None:
    files[R + "manifest.json"] = canonical_json(manifest) + b"\n"


# -- a genuine bundle -------------------------------------------------------------------------


def test_genuine_bundle_passes_every_check(agreed: Agreed, tmp_path: Path) -> None:
    """With the published keys as the trusted list, every check of a genuine bundle passes."""
    checks = list(verify_bundle(agreed.bundle, published_signers(agreed, tmp_path)))
    assert checks
    assert all(c.ok for c in checks), [c.line() for c in checks if not c.ok]
    names = " ".join(c.name for c in checks)
    for expected in (
        "SHA256SUMS.sig",
        "signer",
        "agreement BLR/export-law",
        "approval",
        "repository repos/BLR.git",
        "commit BLR/export-law",
        "attachment",
        "document documents/KGZ",
        "audit checkpoint",
    ):
        assert expected in names


CASES: list[tuple[str, Callable[[Files], None], str]] = [
    ("manifest", flip(R + "manifest.json", 30), "manifest.json"),
    ("document", flip(R + "documents/BLR/export-law.md", 5), "documents/BLR/export-law.md"),
    ("sums-line", flip(R + "SHA256SUMS", 3), "SHA256SUMS"),
    ("bundle-signature", flip(R + "SHA256SUMS.sig", 60), "SHA256SUMS.sig"),
    (
        "approval-signature",
        flip(R + "approvals/BLR/export-law.sig", 60),
        "approvals/BLR/export-law.sig",
    ),
    ("repository-config", flip(R + "repos/BLR.git/config", 3), "repos/BLR.git/config"),
    (
        "attachment",
        lambda f: f.__setitem__(
            next(n for n in f if n.endswith(".age")),
            f[next(n for n in f if n.endswith(".age"))][:-1] + b"\x00",
        ),
        ".age",
    ),
    (
        "removed",
        lambda f: f.__delitem__(R + "documents/KGZ/action-plan.md"),
        "documents/KGZ/action-plan.md",
    ),
    (
        "added",
        lambda f: f.__setitem__(R + "documents/BLR/extra.md", b"smuggled"),
        "documents/BLR/extra.md",
    ),
]


@pytest.mark.parametrize(("change", "named"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_any_change_fails_and_names_the_file(
    agreed: Agreed, tmp_path: Path, change: Callable[[Files], None], named: str
) -> None:
    """A changed byte anywhere fails, naming the file, and verification stops there."""
    tampered = rewrite(agreed.bundle, tmp_path / "tampered.tar", change)
    checks = list(verify_bundle(tampered, published_signers(agreed, tmp_path)))
    failed = [c for c in checks if not c.ok]
    assert failed, "a tampered bundle verified"
    assert failed == [checks[-1]], "checks went on after the signature or a checksum failed"
    assert named in failed[0].line(), failed[0].line()


def test_a_changed_object_in_a_repository_stops_at_its_checksum(
    agreed: Agreed, tmp_path: Path
) -> None:
    """A loose object is a file like any other: its sha256 in SHA256SUMS protects it."""
    files = unpack(agreed.bundle)
    name = next(n for n in sorted(files) if "/repos/BLR.git/objects/" in n)
    tampered = rewrite(agreed.bundle, tmp_path / "t.tar", flip(name, 10))
    (failed,) = failures(tampered, published_signers(agreed, tmp_path))
    assert name.removeprefix(R) in failed


def test_an_object_under_another_name_is_refused(agreed: Agreed, tmp_path: Path) -> None:
    """A genuine, State-signed older commit stored under the approved commit's name would pass
    `git verify-commit`: every object's name is checked against its content first."""
    forger = make_forger(agreed, tmp_path)
    store = services(agreed).store
    v3, _v2, v1 = (v.sha for v in store.versions("BLR", "export-law"))
    older = approved_repository(store.reader("BLR"), {"export-law": v1})

    def change(files: Files) -> None:
        base = R + "repos/BLR.git/objects/"
        files[f"{base}{v3[:2]}/{v3[2:]}"] = older[f"objects/{v1[:2]}/{v1[2:]}"]

    failed = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert any(
        f.startswith("FAIL repository repos/BLR.git") and "is not the object of that name" in f
        for f in failed
    ), failed


def test_an_object_outside_the_approved_commits_is_refused(agreed: Agreed, tmp_path: Path) -> None:
    """The repository carries the approved versions only: an extra (older) commit is named."""
    forger = make_forger(agreed, tmp_path)
    store = services(agreed).store
    v1 = store.versions("BLR", "export-law")[-1].sha
    older = approved_repository(store.reader("BLR"), {"export-law": v1})

    def change(files: Files) -> None:
        files[f"{R}repos/BLR.git/objects/{v1[:2]}/{v1[2:]}"] = older[f"objects/{v1[:2]}/{v1[2:]}"]

    failed = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert any("outside the approved commits" in f for f in failed), failed


# -- the command line -------------------------------------------------------------------------


def test_cli_exit_status_and_verdict(agreed: Agreed, tmp_path: Path) -> None:
    """0 with a trusted list, 1 when a check fails, 8 when the signers were not checked."""
    trusted = published_signers(agreed, tmp_path)
    good = CliRunner().invoke(
        main, ["verify", str(agreed.bundle), "--allowed-signers", str(trusted)]
    )
    assert good.exit_code == 0, good.output
    assert "VERIFIED: every check passed" in good.output
    tampered = rewrite(agreed.bundle, tmp_path / "t.tar", flip(R + "manifest.json", 30))
    bad = CliRunner().invoke(main, ["verify", str(tampered), "--allowed-signers", str(trusted)])
    assert bad.exit_code == 1
    assert "NOT VERIFIED" in bad.output


def test_own_keys_are_not_a_verdict_unless_asked(agreed: Agreed) -> None:
    """Without a trusted list the bundle's own keys prove only consistency: a distinct exit
    code, unless --trust-bundle-keys says that is what the user wants."""
    untrusted = CliRunner().invoke(main, ["verify", str(agreed.bundle)])
    assert untrusted.exit_code == EXIT_SIGNERS_UNCHECKED == 8
    assert "signatures good, signers not checked against a trusted list" in untrusted.output
    assert "VERIFIED: every check passed" not in untrusted.output
    trusting = CliRunner().invoke(main, ["verify", str(agreed.bundle), "--trust-bundle-keys"])
    assert trusting.exit_code == 0
    assert "VERIFIED: every check passed" in trusting.output


def test_trusted_signers_file_rejects_substituted_keys(agreed: Agreed, tmp_path: Path) -> None:
    """With a trusted allowed_signers file, a bundle signed by a key not in it fails."""
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    trusted = tmp_path / "trusted"
    trusted.write_text("unrcpd@parties.peerlex " + (tmp_path / "stranger.pub").read_text())
    (failed,) = failures(agreed.bundle, trusted)
    assert failed.startswith("FAIL SHA256SUMS.sig")


# -- what a holder of a trusted bundle key still cannot forge ---------------------------------


def _drop_repository(party: str) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        manifest = manifest_of(files)
        manifest["repositories"] = [r for r in manifest["repositories"] if r["party"] != party]
        set_manifest(files, manifest)
        for name in [n for n in files if n.startswith(f"{R}repos/{party}.git/")]:
            del files[name]

    return change


def test_forged_text_without_its_repository(agreed: Agreed, tmp_path: Path) -> None:
    """A replaced text whose repository entry is removed (so no commit can contradict it)."""
    forger = make_forger(agreed, tmp_path)

    def change(files: Files) -> None:
        forged = "# Закон\n\nНичего не запрещено.\n".encode()
        files[R + "documents/BLR/export-law.md"] = forged
        manifest = manifest_of(files)
        for doc in manifest["documents"]:
            if doc["party"] == "BLR":
                doc["sha256"] = hashlib.sha256(forged).hexdigest()
        set_manifest(files, manifest)
        _drop_repository("BLR")(files)

    failed = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert any("agreement BLR/export-law" in f and "no repository entry" in f for f in failed)


def test_forged_older_version_that_was_never_approved(agreed: Agreed, tmp_path: Path) -> None:
    """The first shared version, never approved, put in place of the approved one everywhere
    the forger can write: its own repository, text and manifest entries."""
    forger = make_forger(agreed, tmp_path)
    store = services(agreed).store
    v1 = store.versions("BLR", "export-law")[-1].sha
    repository = approved_repository(store.reader("BLR"), {"export-law": v1})

    def change(files: Files) -> None:
        for name in [n for n in files if n.startswith(R + "repos/BLR.git/")]:
            del files[name]
        for name, data in repository.items():
            files[f"{R}repos/BLR.git/{name}"] = data
        files[R + "documents/BLR/export-law.md"] = LAW_V1.encode()
        manifest = manifest_of(files)
        for entry in manifest["documents"] + manifest["approvals"]:
            if entry["party"] == "BLR":
                entry["commit"] = v1
        for doc in manifest["documents"]:
            if doc["party"] == "BLR":
                doc["sha256"] = hashlib.sha256(LAW_V1.encode()).hexdigest()
        for repo in manifest["repositories"]:
            if repo["party"] == "BLR":
                repo["refs"] = {"refs/peerlex/approved/export-law": v1}
        set_manifest(files, manifest)

    failed = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert any(
        "approval approvals/BLR/export-law.sig" in f and "commit differs" in f for f in failed
    ), failed


def test_forged_bundle_without_one_states_approval(agreed: Agreed, tmp_path: Path) -> None:
    """KGZ's approval dropped: its document is still there, unapproved."""
    forger = make_forger(agreed, tmp_path)

    def change(files: Files) -> None:
        manifest = manifest_of(files)
        manifest["approvals"] = [a for a in manifest["approvals"] if a["party"] != "KGZ"]
        set_manifest(files, manifest)
        del files[R + "approvals/KGZ/action-plan.json"]
        del files[R + "approvals/KGZ/action-plan.sig"]

    failed = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert any("agreement KGZ/action-plan" in f and "no approval" in f for f in failed), failed


def test_forged_bundle_signed_by_a_non_organiser(agreed: Agreed, tmp_path: Path) -> None:
    """The observer's key (trusted for bundles by mistake) signs: it organises nothing."""
    forger = make_forger(agreed, tmp_path, as_party="GOE")

    def change(files: Files) -> None:
        manifest = manifest_of(files)
        manifest["signed_by"] = "GOE"
        set_manifest(files, manifest)

    (failed,) = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert failed == "FAIL signer: GOE is not an organiser of dushanbe-2017"


def test_forged_manifest_that_names_another_signer(agreed: Agreed, tmp_path: Path) -> None:
    """signed_by must be the party whose key signed SHA256SUMS."""
    forger = make_forger(agreed, tmp_path, as_party="OSCE")
    (failed,) = refused(forger.forge(agreed, tmp_path / "f.tar", lambda f: None), forger.trusted)
    assert failed.startswith("FAIL signer: manifest.json says UNRCPD")


@pytest.mark.parametrize(
    ("field", "value"), [("type", "peerlex-consent/v1"), ("review", "almaty-2018")]
)
def test_a_state_signed_statement_of_another_kind_or_review(
    agreed: Agreed, tmp_path: Path, field: str, value: str
) -> None:
    """Even a statement the State really signed does not count if it is not an approval of
    this review."""
    forger = make_forger(agreed, tmp_path)
    blr = services(agreed).keys.current("BLR")

    def change(files: Files) -> None:
        statement = json.loads(files[R + "approvals/BLR/export-law.json"])
        statement[field] = value
        data = canonical_json(statement)
        files[R + "approvals/BLR/export-law.json"] = data
        files[R + "approvals/BLR/export-law.sig"] = blr.sign(data, "peerlex-approval").encode()

    failed = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert len(failed) == 1, failed
    assert failed[0].startswith("FAIL approval approvals/BLR/export-law.sig")
    assert ("peerlex-approval/v1" if field == "type" else "another review") in failed[0]


def test_an_audit_checkpoint_not_signed_by_the_deployment(agreed: Agreed, tmp_path: Path) -> None:
    """The checkpoint signed by another key (here the forger's) is named."""
    forger = make_forger(agreed, tmp_path)

    def change(files: Files) -> None:
        statement = files[R + "audit/checkpoint.json"]
        files[R + "audit/checkpoint.sig"] = sshsig.sign(
            forger.key, statement, "peerlex-audit"
        ).encode()

    (failed,) = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert failed.startswith("FAIL audit checkpoint audit/checkpoint.json: signed by")
    assert "not a key of PEERLEX" in failed


# -- keys at their time and for their purpose -------------------------------------------------


def test_a_rotated_out_organiser_key_does_not_sign_bundles(agreed: Agreed, tmp_path: Path) -> None:
    """Once UNRCPD's key is rotated out, its signature over a bundle no longer counts; the
    approvals, commits and checkpoint made before still verify at their own times."""
    keys = services(agreed).keys
    keys.rotate("UNRCPD")
    rotated_at = keys.verifying_keys("UNRCPD")[0].valid_before
    assert rotated_at is not None
    trusted = published_signers(agreed, tmp_path)
    assert 'unrcpd@parties.peerlex namespaces="git,peerlex-bundle",valid-after=' in (
        trusted.read_text()
    )
    # Published times are whole seconds, and a key's end is rounded up to the next one (a key
    # made and retired within one second must still end after it began): two seconds on, the
    # key is out whatever the rounding.
    (failed,) = failures(agreed.bundle, trusted, now=rotated_at + timedelta(seconds=2))
    assert failed.startswith("FAIL SHA256SUMS.sig")
    assert "not one party's key trusted" in failed
    assert failures(agreed.bundle, trusted, now=rotated_at) == []


def test_an_approval_key_cannot_sign_a_bundle(agreed: Agreed, tmp_path: Path) -> None:
    """BLR's key is published for git and peerlex-approval only: a bundle signed with it is
    refused, whatever the manifest says."""
    blr = services(agreed).keys.current("BLR")

    def change(files: Files) -> None:
        manifest = manifest_of(files)
        manifest["signed_by"] = "BLR"
        set_manifest(files, manifest)

    forger = Forger(blr.signing_key, published_signers(agreed, tmp_path))
    (failed,) = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert failed.startswith("FAIL SHA256SUMS.sig")
    assert "peerlex-bundle" in failed


# -- nothing in the bundle runs, or lands outside the verifier's folder -----------------------


def _marker_script(tmp_path: Path, marker: Path) -> Path:
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    script.chmod(0o755)
    return script


@pytest.fixture
def git_spy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `git` first on PATH that leaves a mark each time it runs, then runs the real one."""
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout
    spy_dir = tmp_path / "spy"
    spy_dir.mkdir()
    mark = tmp_path / "git-ran"
    spy = spy_dir / "git"
    spy.write_text(f'#!/bin/sh\necho x >> {mark}\nexec {real.strip()} "$@"\n')
    spy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{spy_dir}{os.pathsep}{os.environ['PATH']}")
    return mark


def name_party(files: Files, section: str, party: str) -> None:
    """Write party into the first entry of the manifest's section."""
    manifest = manifest_of(files)
    manifest[section][0]["party"] = party
    set_manifest(files, manifest)


def refused_before_git(
    agreed: Agreed, forger: Forger, out: Path, change: Callable[[Files], None], git_spy: Path
) -> str:
    """Forge a bundle at out with change, clear the spy's mark, verify: the one failure."""
    bundle = forger.forge(agreed, out, change)
    git_spy.unlink(missing_ok=True)
    (failed,) = refused(bundle, forger.trusted)
    return failed


def test_a_party_that_is_a_path_is_refused_before_git_runs(
    agreed: Agreed, tmp_path: Path, git_spy: Path
) -> None:
    """A party `Y/../unpacked/<root>/evil` once made git run in a repository shipped in the
    tar, whose gpg.ssh.program and hooks then ran as the verifying user."""
    forger = make_forger(agreed, tmp_path)
    marker = tmp_path / "pwned"
    script = _marker_script(tmp_path, marker)
    party = f"Y/../unpacked/{R}evil"

    def change(files: Files) -> None:
        evil = R + "evil/"
        files[evil + "HEAD"] = b"ref: refs/heads/main\n"
        files[evil + "config"] = (
            f'[core]\n\tbare = true\n\thooksPath = hooks\n[gpg "ssh"]\n\tprogram = {script}\n'
        ).encode()
        for hook in ("reference-transaction", "post-checkout", "pre-auto-gc"):
            files[evil + f"hooks/{hook}"] = script.read_bytes()
        files[evil + "refs/keep"] = b""
        files[evil + "objects/keep"] = b""
        name_party(files, "repositories", party)

    failed = refused_before_git(agreed, forger, tmp_path / "f.tar", change, git_spy)
    assert failed.startswith("FAIL manifest.json: repositories[0].party must match")
    assert not marker.exists()
    assert not git_spy.exists(), "git ran before the manifest was refused"


@pytest.mark.parametrize("party", ["../../../tmp/x", "../../..", "BLR/..", "blr", "B", ""])
def test_party_values_that_are_not_codes_are_refused(
    agreed: Agreed, tmp_path: Path, git_spy: Path, party: str
) -> None:
    forger = make_forger(agreed, tmp_path)

    def change(files: Files) -> None:
        name_party(files, "documents", party)

    failed = refused_before_git(agreed, forger, tmp_path / "f.tar", change, git_spy)
    assert failed.startswith("FAIL manifest.json: documents[0].party must match")
    assert not git_spy.exists()


def test_a_repository_config_or_hook_in_the_bundle_never_runs(
    agreed: Agreed, tmp_path: Path
) -> None:
    """The bundle's repos/BLR.git/config names a gpg.ssh.program and hooks: git never reads
    them, because it runs only in a repository the verifier made."""
    forger = make_forger(agreed, tmp_path)
    marker = tmp_path / "pwned"
    script = _marker_script(tmp_path, marker)

    def change(files: Files) -> None:
        repo = R + "repos/BLR.git/"
        files[repo + "config"] += (
            f'\thooksPath = hooks\n[gpg "ssh"]\n\tprogram = {script}\n'.encode()
        )
        files[repo + "hooks/reference-transaction"] = script.read_bytes()

    failed = refused(forger.forge(agreed, tmp_path / "f.tar", change), forger.trusted)
    assert any(f.startswith("FAIL repository repos/BLR.git") for f in failed), failed
    assert not marker.exists()


def test_the_users_git_configuration_is_not_used(
    agreed: Agreed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gpg.ssh.program or hooks path in the user's global or system configuration (or one an
    attacker planted there) does not run: git gets no configuration but the verifier's."""
    marker = tmp_path / "pwned"
    script = _marker_script(tmp_path, marker)
    config = tmp_path / "gitconfig"
    config.write_text(f'[core]\n\thooksPath = {tmp_path}\n[gpg "ssh"]\n\tprogram = {script}\n')
    trusted = published_signers(agreed, tmp_path)
    for variable in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"):
        monkeypatch.setenv(variable, str(config))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    assert failures(agreed.bundle, trusted) == []
    assert not marker.exists()


# -- what the archive may hold ----------------------------------------------------------------


def _tar_with(tmp_path: Path, *members: tarfile.TarInfo) -> Path:
    out = tmp_path / "odd.tar"
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tar:
        for member in members:
            data = b"x" * member.size if member.isfile() else None
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
    return out


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size if kind == tarfile.REGTYPE else 0
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        info.linkname = "/etc/passwd"
    return info


@pytest.mark.parametrize(
    "member",
    [
        _member("/etc/x"),
        _member("r/../../x"),
        _member("r/./x"),
        _member("r//x"),
        _member("r/a\\b"),
        _member("r/.git/config"),
        _member("r/x\x1b[2K\rok   VERIFIED"),
        _member("r/link", tarfile.SYMTYPE),
        _member("r/hard", tarfile.LNKTYPE),
        _member("r/dev", tarfile.CHRTYPE),
        _member("r/fifo", tarfile.FIFOTYPE),
    ],
    ids=[
        "absolute",
        "parent",
        "dot",
        "empty",
        "backslash",
        "dot-git",
        "control",
        "symlink",
        "hardlink",
        "device",
        "fifo",
    ],
)
def test_unsafe_member_names_and_kinds_are_refused(tmp_path: Path, member: tarfile.TarInfo) -> None:
    bundle = _tar_with(tmp_path, _member("r", tarfile.DIRTYPE), member)
    checks = list(verify_bundle(bundle))
    assert [c.ok for c in checks] == [False]
    assert checks[0].name == "archive"
    assert "\n" not in checks[0].line()
    assert "\x1b" not in checks[0].line()


def test_a_check_is_always_one_line() -> None:
    """Whatever a detail holds (git's or ssh-keygen's words, a name from the bundle), its
    line cannot end early and draw a verdict of its own."""
    line = Check("file x\r\nok   y", False, "\x1b[1A\x1b[2KVERIFIED: every check passed\n").line()
    assert "\n" not in line
    assert "\r" not in line
    assert "\x1b" not in line
    assert line.startswith("FAIL file x")


def test_a_member_name_cannot_draw_a_verdict(tmp_path: Path) -> None:
    """What the bundle names is printed on one line with every control character escaped."""
    bundle = _tar_with(tmp_path, _member("r/x\nVERIFIED: every check passed\r"))
    result = CliRunner().invoke(main, ["verify", str(bundle)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert not any(line.startswith("VERIFIED") for line in lines), lines
    assert lines[-1].startswith("NOT VERIFIED")


def test_a_compressed_bundle_is_refused_with_a_reason(agreed: Agreed, tmp_path: Path) -> None:
    """A 1 MiB .tar.gz can hold a GiB: compressed input is never unpacked."""
    compressed = tmp_path / "bundle.tar.gz"
    compressed.write_bytes(gzip.compress(agreed.bundle.read_bytes()))
    (check,) = verify_bundle(compressed)
    assert check == Check(
        "archive",
        False,
        "the file is gzip-compressed; a bundle is a plain tar (decompress it first, knowing "
        "how large it will be)",
    )


def test_sizes_are_limited_from_the_headers_before_anything_is_written(tmp_path: Path) -> None:
    """A header that claims 2 GiB (with no data behind it) is refused from the header alone:
    had anything been written, the missing data would have failed differently."""
    bundle = tmp_path / "claims.tar"
    with bundle.open("wb") as handle:
        handle.write(_member("r", tarfile.DIRTYPE).tobuf(tarfile.GNU_FORMAT))
        handle.write(_member("r/big", size=2 << 30).tobuf(tarfile.GNU_FORMAT))
    assert bundle.stat().st_size < 4096
    (check,) = verify_bundle(bundle, limits=Limits(max_bytes=1 << 30))
    assert check.name == "archive"
    assert "more than 1073741824 bytes" in check.detail


def test_a_huge_long_name_header_is_refused_without_reading_it(tmp_path: Path) -> None:
    """tarfile reads a GNU long name whole: one claiming 1 GiB is refused, not allocated."""
    bundle = tmp_path / "longname.tar"
    longname = _member("././@LongLink", size=1 << 30)
    longname.type = tarfile.GNUTYPE_LONGNAME
    with bundle.open("wb") as handle:
        handle.write(longname.tobuf(tarfile.GNU_FORMAT) + b"r/" + b"a" * 510)
    (check,) = verify_bundle(bundle)
    assert check.name == "archive"
    assert "asks to read more than" in check.detail


def test_the_number_of_members_is_limited(tmp_path: Path) -> None:
    members = [_member(f"r/f{i}") for i in range(30)]
    bundle = _tar_with(tmp_path, *members)
    (check,) = verify_bundle(bundle, limits=Limits(max_members=20))
    assert check == Check("archive", False, "more than 20 entries")


@pytest.mark.parametrize(
    "limits",
    [Limits(max_object=16), Limits(max_inflated=2000), Limits(max_held=300)],
    ids=["one-object", "all-objects", "held-in-memory"],
)
def test_inflating_git_objects_is_bounded(agreed: Agreed, tmp_path: Path, limits: Limits) -> None:
    """Loose objects that inflate past a limit are refused while they inflate (the header
    names the size): one object, all of them, or the commits and trees kept in memory."""
    failed = failures(agreed.bundle, published_signers(agreed, tmp_path), limits=limits)
    assert failed, "the limit was not applied"
    assert all(f.startswith("FAIL repository repos/") for f in failed), failed
    assert all("too large" in f for f in failed), failed


# -- malformed manifests and keys name the failing check --------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        target: Any = manifest
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is KeyError:
            del target[int(last) if last.isdigit() else last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _replace_with(value: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        manifest.clear()
        manifest.update(value)

    return change


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown-object", _replace_with({"x": 1}), "lacks"),
    ("documents-object", _set("documents", {}), "documents must be a list"),
    ("approvals-string", _set("approvals", "all"), "approvals must be a list"),
    ("no-review", _set("review", KeyError), "manifest.json lacks review"),
    ("review-string", _set("review", "dushanbe-2017"), "review must be an object"),
    ("title-number", _set("review.title", 5), "review.title must be a string"),
    ("states-null", _set("parties.states", None), "parties.states must be a list"),
    ("state-lower", _set("parties.states.0", "blr"), "parties.states[0] must match"),
    ("signed-by-null", _set("signed_by", None), "signed_by must be a string"),
    ("document-string", _set("documents.0", "BLR/export-law"), "documents[0] must be an object"),
    ("commit-short", _set("documents.0.commit", "abc"), "documents[0].commit must match"),
    ("commit-upper", _set("approvals.0.commit", "A" * 40), "approvals[0].commit must match"),
    ("slug-path", _set("documents.0.slug", "../x"), "documents[0].slug must match"),
    ("sha256-int", _set("documents.0.sha256", 1), "documents[0].sha256 must be a string"),
    ("extra-field", _set("documents.0.note", "x"), "unknown field(s) note"),
    ("missing-field", _set("approvals.0.statement", KeyError), "approvals[0] lacks statement"),
    ("statement-path", _set("approvals.0.statement", "../SHA256SUMS"), "must be approvals/"),
    ("repo-path", _set("repositories.0.path", "repos/../evil.git"), "must be repos/"),
    ("refs-list", _set("repositories.0.refs", []), "refs must be an object"),
    ("ref-name", _set("repositories.0.refs", {"refs/heads/main": "0" * 40}), "refs key"),
    ("size-negative", _set("attachments.0.size", -1), "whole number"),
    ("size-bool", _set("attachments.0.size", True), "whole number"),
    ("recipients-string", _set("attachments.0.recipients", "age1x"), "must be a list"),
    ("audit-missing", _set("audit_checkpoint", KeyError), "lacks audit_checkpoint"),
    ("audit-size-str", _set("audit_checkpoint.size", "3"), "audit_checkpoint.size"),
    ("format-v1", _set("format", "peerlex-bundle/v1"), "format must be peerlex-bundle/v2"),
    ("duplicate-doc", lambda m: m["documents"].append(m["documents"][0]), "twice"),
]


@pytest.mark.parametrize(
    ("change", "named"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_a_malformed_manifest_names_the_failing_field(
    agreed: Agreed, tmp_path: Path, change: Callable[[dict[str, Any]], None], named: str
) -> None:
    forger = make_forger(agreed, tmp_path)

    def edit(files: Files) -> None:
        manifest = manifest_of(files)
        change(manifest)
        set_manifest(files, manifest)

    bundle = forger.forge(agreed, tmp_path / "f.tar", edit)
    result = CliRunner().invoke(
        main, ["verify", str(bundle), "--allowed-signers", str(forger.trusted)]
    )
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    failed = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1, failed
    assert failed[0].startswith("FAIL manifest.json: "), failed
    assert named in failed[0]


@pytest.mark.parametrize(
    "data", [b"{", b"[]", b"null", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000]
)
def test_a_manifest_that_is_not_json_is_named(agreed: Agreed, tmp_path: Path, data: bytes) -> None:
    forger = make_forger(agreed, tmp_path)
    bundle = forger.forge(
        agreed, tmp_path / "f.tar", lambda f: f.__setitem__(R + "manifest.json", data)
    )
    (failed,) = refused(bundle, forger.trusted)
    assert failed.startswith("FAIL manifest.json: ")


def test_unknown_allowed_signers_lines_are_skipped(agreed: Agreed, tmp_path: Path) -> None:
    """Key types, certificate authorities and options this verifier does not know are skipped
    (never trusted), and the lines it knows still verify the bundle."""
    trusted = published_signers(agreed, tmp_path)
    junk = [
        "# a comment",
        "x@y ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=",
        "x@y cert-authority ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFjunk",
        'x@y foo="bar" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFjunk',
        'x@y valid-before="tomorrow" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFjunk',
        "x@y ssh-ed25519 !!!notbase64",
        "lonely-principal",
        '"quoted principal" ssh-ed25519 AAAA',
        'x@y namespaces="unterminated ssh-ed25519 AAAA',
    ]
    trusted.write_text("\n".join(junk) + "\n" + trusted.read_text())
    assert failures(agreed.bundle, trusted) == []
