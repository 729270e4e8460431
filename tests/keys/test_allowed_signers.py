"""Published keys sign only in their party's namespaces and only in their time, as OpenSSH and
git read the file."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from keys import sshsig
from keys.allowed_signers import NAMESPACES_BY_KIND, AllowedSigner, render
from keys.protocol import principal

NOW = datetime.now(UTC).replace(microsecond=0)


def _keypair(tmp_path: Path) -> tuple[Path, Ed25519PublicKey]:
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = load_ssh_public_key((tmp_path / "id.pub").read_bytes())
    assert isinstance(public, Ed25519PublicKey)
    return key, public


def _ssh_keygen_verifies(tmp_path: Path, key: Path, signers: Path, namespace: str) -> bool:
    message = tmp_path / "message"
    message.write_bytes(b"SHA256SUMS of a final bundle\n")
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-q", "-f", str(key), "-n", namespace, str(message)],
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", principal("BLR")]
        + ["-n", namespace, "-s", f"{message}.sig"],
        input=message.read_bytes(),
        capture_output=True,
        check=False,
    )
    (tmp_path / "message.sig").unlink()
    return result.returncode == 0


@pytest.mark.parametrize("kind", sorted(NAMESPACES_BY_KIND))
def test_a_key_signs_only_in_its_kinds_namespaces(tmp_path: Path, kind: str) -> None:
    """A State key verifies for git and approvals, never for bundles or the audit log; an
    organisation's for git and bundles; the deployment's for the audit log alone."""
    key, public = _keypair(tmp_path)
    signers = tmp_path / "allowed_signers"
    signers.write_text(render([AllowedSigner("BLR", public, kind=kind, valid_after=NOW)]))
    for namespace in ("git", "peerlex-approval", "peerlex-bundle", "peerlex-audit"):
        expected = namespace in NAMESPACES_BY_KIND[kind]
        assert _ssh_keygen_verifies(tmp_path, key, signers, namespace) is expected, namespace


def test_the_line_names_namespaces_and_times_as_openssh_reads_them() -> None:
    public = Ed25519PublicKey.from_public_bytes(bytes(32))
    after = datetime(2017, 6, 1, 9, 0, tzinfo=UTC)
    line = AllowedSigner("UNRCPD", public, after + timedelta(days=9), "organisation", after).line()
    assert line == (
        'unrcpd@parties.peerlex namespaces="git,peerlex-bundle",valid-after="20170601090000Z",'
        f'valid-before="20170610090000Z" {sshsig.public_key_line(public)}'
    )


def _signed_commit(tmp_path: Path, key: Path, when: datetime) -> Path:
    repo = tmp_path / "repo"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_COMMITTER_DATE": f"{int(when.timestamp())} +0000",
        "GIT_AUTHOR_DATE": f"{int(when.timestamp())} +0000",
    }
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=BLR", "-c", "user.email=blr@parties.peerlex"]
        + ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
        + ["commit", "-q", "-S", "--allow-empty", "-m", "law"],
        check=True,
        env=env,
    )
    return repo


@pytest.mark.parametrize(
    ("after", "before", "good"),
    [
        (timedelta(days=-10), None, True),
        (timedelta(days=-10), timedelta(days=1), True),
        (timedelta(days=-10), timedelta(days=-1), False),  # rotated out before the commit
        (timedelta(days=1), None, False),  # made after the commit: cannot have signed it
        # Made, used and retired within one second (times in git are whole seconds).
        (timedelta(0), timedelta(milliseconds=300), True),
        (timedelta(0), timedelta(0), True),
    ],
)
def test_git_verify_commit_honours_the_validity_of_the_published_key(
    tmp_path: Path, after: timedelta, before: timedelta | None, good: bool
) -> None:
    """git passes the commit's time to ssh-keygen: a commit made while the key was valid
    verifies, even after the key was rotated out; one outside that time does not."""
    key, public = _keypair(tmp_path)
    when = NOW - timedelta(days=5)
    repo = _signed_commit(tmp_path, key, when)
    signers = tmp_path / "allowed_signers"
    signer = AllowedSigner(
        "BLR",
        public,
        when + before if before is not None else None,
        "state",
        when + after,
    )
    signers.write_text(render([signer]))
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", f"gpg.ssh.allowedSignersFile={signers}"]
        + ["verify-commit", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"], "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)},
    )
    assert (result.returncode == 0) is good, result.stderr
    assert ('Good "git" signature for blr@parties.peerlex' in result.stderr) is good
