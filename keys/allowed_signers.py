"""The allowed_signers file that `ssh-keygen -Y verify` and `git verify-commit` read.

Each key is published with only the namespaces its party signs in, and with the time it began
and stopped signing, so that a key is never accepted for another purpose or another time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys import sshsig
from keys.protocol import (
    APPROVAL_NAMESPACE,
    AUDIT_NAMESPACE,
    BUNDLE_NAMESPACE,
    GIT_NAMESPACE,
    principal,
)

# What each kind of party signs: a State its commits and approvals, an organisation its
# commits and final bundles, the deployment its audit checkpoints.
NAMESPACES_BY_KIND: dict[str, tuple[str, ...]] = {
    "state": (GIT_NAMESPACE, APPROVAL_NAMESPACE),
    "organisation": (GIT_NAMESPACE, BUNDLE_NAMESPACE),
    "deployment": (AUDIT_NAMESPACE,),
}


def openssh_time(moment: datetime, *, round_up: bool = False) -> str:
    """A time as allowed_signers writes it."""
    # OpenSSH reads YYYYMMDDHHMMSS with a trailing Z as UTC, whole seconds only.
    moment = moment.astimezone(UTC)
    if round_up and moment.microsecond:
        # A key's end rounds up: a signature made in its last second (git's times are whole
        # seconds) stays valid, and a key made and retired within one second still has
        # valid-before after valid-after, which ssh-keygen demands.
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.strftime("%Y%m%d%H%M%S") + "Z"


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
            options += f',valid-after="{openssh_time(self.valid_after)}"'
        if self.valid_before is not None:
            before = self.valid_before
            if self.valid_after is not None:
                # ssh-keygen refuses a line whose valid-before is not after its valid-after.
                before = max(before, self.valid_after.replace(microsecond=0) + timedelta(seconds=1))
            options += f',valid-before="{openssh_time(before, round_up=True)}"'
        return f"{principal(self.party)} {options} {sshsig.public_key_line(self.public_key)}"


def render(signers: Iterable[AllowedSigner]) -> str:
    """Render an allowed_signers file, one line per key, sorted for stable output."""
    lines = sorted(signer.line() for signer in signers)
    return "".join(line + "\n" for line in lines)
