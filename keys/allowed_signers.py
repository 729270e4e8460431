"""The allowed_signers file that `ssh-keygen -Y verify` and `git verify-commit` read.

Each key is published with only the namespaces its party signs in, and with the time it began
and stopped signing, so that a key is never accepted for another purpose or another time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys import sshsig

GIT = "git"
APPROVAL = "peerlex-approval"
BUNDLE = "peerlex-bundle"
AUDIT = "peerlex-audit"

# What each kind of party signs: a State its commits and approvals, an organisation its
# commits and final bundles, the deployment its audit checkpoints.
NAMESPACES_BY_KIND: dict[str, tuple[str, ...]] = {
    "state": (GIT, APPROVAL),
    "organisation": (GIT, BUNDLE),
    "deployment": (AUDIT,),
}


def principal(party: str) -> str:
    """The signer identity of a party, also its committer e-mail in git."""
    return f"{party.lower()}@parties.peerlex"


def _openssh_time(moment: datetime) -> str:
    # OpenSSH reads YYYYMMDDHHMMSS with a trailing Z as UTC.
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "Z"


@dataclass(frozen=True)
class AllowedSigner:
    """One line: a party's public key, the namespaces it signs in and when it signed."""

    party: str
    public_key: Ed25519PublicKey
    valid_before: datetime | None = None
    kind: str = "state"  # a key of NAMESPACES_BY_KIND
    valid_after: datetime | None = None

    def line(self) -> str:
        namespaces = NAMESPACES_BY_KIND[self.kind]
        options = f'namespaces="{",".join(namespaces)}"'
        if self.valid_after is not None:
            options += f',valid-after="{_openssh_time(self.valid_after)}"'
        if self.valid_before is not None:
            options += f',valid-before="{_openssh_time(self.valid_before)}"'
        return f"{principal(self.party)} {options} {sshsig.public_key_line(self.public_key)}"


def render(signers: Iterable[AllowedSigner]) -> str:
    """Render an allowed_signers file, one line per key, sorted for stable output."""
    lines = sorted(signer.line() for signer in signers)
    return "".join(line + "\n" for line in lines)
