"""The keys a verifier trusts for one party: each with the span in which it signs, the
namespaces it signs in, and whose it is (a person's, or the party's key the server holds).

The span is judged as `ssh-keygen -Y verify` judges an allowed_signers line: at whole seconds,
the start rounded down and the end rounded up (keys/allowed_signers.py writes them so), both
ends inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from keys import sshsig
from keys.party_keys import KeyStore, VerifyingKey
from keys.ssh_keys import ED25519, SshPublicKey


@dataclass(frozen=True)
class TrustedKey:
    """One key a party signs with, and when and for what it does."""

    key: SshPublicKey
    valid_after: datetime | None
    valid_before: datetime | None
    namespaces: tuple[str, ...]
    # The e-mail of the person who registered the key; None for a key the server holds.
    owner: str | None = None

    @property
    def held_by_server(self) -> bool:
        return self.owner is None

    @property
    def fingerprint(self) -> str:
        return self.key.fingerprint

    def signs(self, namespace: str, at: datetime) -> bool:
        """Whether a signature in namespace made at this time is the key's to make."""
        if namespace not in self.namespaces:
            return False
        if self.valid_after is not None and at < self.valid_after.replace(microsecond=0):
            return False
        if self.valid_before is None:
            return True
        end = self.valid_before
        if end.microsecond:
            end = end.replace(microsecond=0) + timedelta(seconds=1)
        # As ssh-keygen, the end is inclusive: a key retired in the second it last signed in
        # (git's times are whole seconds) still verifies what it signed.
        return at <= end


def server_key(key: VerifyingKey, namespaces: tuple[str, ...]) -> TrustedKey:
    """A party's key held by the server, trusted from its creation to its retirement."""
    blob = sshsig.public_key_blob(key.public_key)
    return TrustedKey(SshPublicKey(ED25519, blob, ""), key.created_at, key.valid_before, namespaces)


def server_keys(keys: KeyStore, party: str, namespaces: tuple[str, ...]) -> list[TrustedKey]:
    """Every key the server has held for the party (none for a party that holds its own)."""
    if not keys.has_keys(party):
        return []
    return [server_key(key, namespaces) for key in keys.verifying_keys(party)]


@dataclass(frozen=True)
class SignerCheck:
    """Which trusted key made a signature, or why none did."""

    status: str  # "good" | "bad" | "unknown" | "missing"
    key: TrustedKey | None = None
    # The fingerprint the signature names, when it names one.
    fingerprint: str | None = None


def check_signed(
    armored: str | None,
    message: bytes,
    namespace: str,
    at: datetime,
    trusted: Iterable[TrustedKey],
) -> SignerCheck:
    """Check a signature over message by a key trusted for namespace at that time.

    "unknown": the signature is well formed but by no key trusted then (another State's, a
    revoked one); "bad": it does not verify or cannot be read.
    """
    if armored is None:
        return SignerCheck("missing")
    try:
        envelope = sshsig.read_envelope(armored)
    except sshsig.SignatureError:
        return SignerCheck("bad")
    named = SshPublicKey("", envelope.public_key_blob, "").fingerprint
    candidates = [k for k in trusted if k.key.blob == envelope.public_key_blob]
    valid = [k for k in candidates if k.signs(namespace, at)]
    if not valid:
        return SignerCheck("unknown", None, named)
    try:
        sshsig.find_signer(armored, message, namespace, [valid[0].key])
    except sshsig.SignatureError:
        return SignerCheck("bad", None, named)
    return SignerCheck("good", valid[0], named)
