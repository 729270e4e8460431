"""Signatures checked with the standard tools alone, as anyone without peerlex can check them."""

from __future__ import annotations

import subprocess
from pathlib import Path


def ssh_keygen_verify(
    signers: Path, principal: str, namespace: str, signature: Path, message: bytes
) -> subprocess.CompletedProcess[bytes]:
    """Run `ssh-keygen -Y verify` on message, trusting only the keys in signers."""
    return subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(signers),
            "-I",
            principal,
            "-n",
            namespace,
            "-s",
            str(signature),
        ],
        input=message,
        capture_output=True,
        check=False,
    )


def git_verify_commit(repo: Path, signers: Path, sha: str) -> subprocess.CompletedProcess[str]:
    """Run `git verify-commit` on sha in the bare repository repo, trusting only signers."""
    return subprocess.run(
        ["git", f"--git-dir={repo}", "-c", f"gpg.ssh.allowedSignersFile={signers}"]
        + ["verify-commit", sha],
        capture_output=True,
        text=True,
        check=False,
    )
