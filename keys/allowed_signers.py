"""The allowed_signers file that `ssh-keygen -Y verify` and `git verify-commit` read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys import sshsig

NAMESPACES = ("git", "peerlex-approval", "peerlex-bundle", "peerlex-audit")


def principal(party: str) -> str:
    """The signer identity of a party, also its committer e-mail in git."""
    return f"{party.lower()}@parties.peerlex"


@dataclass(frozen=True)
class AllowedSigner:
    """One line: a party's public key, the namespaces it signs in and when it stopped."""

    party: str
    public_key: Ed25519PublicKey
    valid_before: datetime | None = None

    def line(self) -> str:
        options = f'namespaces="{",".join(NAMESPACES)}"'
        if self.valid_before is not None:
            # OpenSSH reads YYYYMMDDHHMMSS with a trailing Z as UTC.
            options += f',valid-before="{self.valid_before.strftime("%Y%m%d%H%M%S")}Z"'
        return f"{principal(self.party)} {options} {sshsig.public_key_line(self.public_key)}"


def render(signers: Iterable[AllowedSigner]) -> str:
    """Render an allowed_signers file, one line per key, sorted for stable output."""
    lines = sorted(signer.line() for signer in signers)
    return "".join(line + "\n" for line in lines)
