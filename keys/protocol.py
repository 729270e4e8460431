"""The names peerlex's signed formats share: signature namespaces, the principal that names a
party in allowed_signers and commits, and the characters no text may carry unescaped
(docs/formats.md)."""

from __future__ import annotations

import re

# SSHSIG namespaces: each signature says what it is, so that one kind cannot pass for another.
GIT_NAMESPACE = "git"
APPROVAL_NAMESPACE = "peerlex-approval"
BUNDLE_NAMESPACE = "peerlex-bundle"
AUDIT_NAMESPACE = "peerlex-audit"

PRINCIPAL_DOMAIN = "parties.peerlex"
PRINCIPAL = re.compile(r"([a-z][a-z0-9]{1,15})@parties\.peerlex")

# Bidirectional formatting characters make a text display differently from what it says (the
# "Trojan Source" trick): the diff reports them, the server refuses them in names and titles,
# and the client shows them escaped.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)


def principal(party: str) -> str:
    """The signer identity of a party, also its committer e-mail in git."""
    return f"{party.lower()}@{PRINCIPAL_DOMAIN}"


def party_of(name: str) -> str | None:
    """The party code a principal names, or None if it names none."""
    match = PRINCIPAL.fullmatch(name)
    return match.group(1).upper() if match else None
