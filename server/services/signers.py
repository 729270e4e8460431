"""The allowed_signers files the server publishes: every key with its party's namespaces.

Two kinds of line: the keys the server holds for each party (keys/allowed_signers.py), and
the keys users registered themselves, each under its party's principal with the namespaces of
the role it was registered with.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select

from keys.allowed_signers import NAMESPACES_BY_KIND, AllowedSigner, openssh_time, render
from keys.merkle import DEPLOYMENT_PARTY
from keys.protocol import principal
from keys.ssh_keys import parse_public_key_line
from keys.trusted_keys import TrustedKey, server_keys
from server.db import db_session
from server.models import Party, UserKey
from server.permissions import key_namespaces
from server.services.audit.checkpoints import ensure_deployment_key
from server.services.context import services
from server.services.user_keys import published_keys


def _kinds() -> dict[str, str]:
    kinds = {code: kind for code, kind in db_session().execute(select(Party.code, Party.kind))}
    kinds[DEPLOYMENT_PARTY] = "deployment"
    return kinds


def allowed_signers_text(parties: Iterable[str] | None = None) -> str:
    """The allowed_signers lines of every key of parties (default: every party with keys).

    A key whose party the database does not know is left out: it signs nothing we publish.
    """
    keys = services().keys
    ensure_deployment_key(keys)
    kinds = _kinds()
    codes = list(keys.parties() if parties is None else parties)
    server_keys = render(
        AllowedSigner(
            party,
            key.public_key,
            key.valid_before,
            kind=kinds[party],
            valid_after=key.created_at,
        )
        for party in codes
        if party in kinds
        for key in keys.verifying_keys(party)
    )
    own = published_keys(None if parties is None else codes)
    lines = server_keys.splitlines() + [user_key_line(k) for k in own if k.party.code in kinds]
    return "".join(line + "\n" for line in sorted(lines))


def trusted_keys(code: str, namespace: str) -> list[TrustedKey]:
    """Every key that signed for the party in namespace, with its span and its owner.

    Worked out once per request: a page of versions checks each against the same keys.
    """
    cache: dict[tuple[str, str], list[TrustedKey]] = db_session().info.setdefault(
        "peerlex_trusted_keys", {}
    )
    if (code, namespace) not in cache:
        kinds = _kinds()
        own = [
            TrustedKey(
                parse_public_key_line(row.public_key),
                row.valid_after,
                row.valid_before,
                key_namespaces(row.role),
                owner=row.user.email,
            )
            for row in published_keys([code])
        ]
        held = server_keys(services().keys, code, NAMESPACES_BY_KIND.get(kinds.get(code, ""), ()))
        cache[(code, namespace)] = [k for k in held + own if namespace in k.namespaces]
    return cache[(code, namespace)]


def user_key_line(key: UserKey) -> str:
    """One registered key's allowed_signers line: valid from its registration to its revocation."""
    options = f'namespaces="{",".join(key_namespaces(key.role))}"'
    options += f',valid-after="{openssh_time(key.valid_after)}"'
    if key.valid_before is not None:
        # As for the server's keys: the end rounds up to a whole second after the start, since
        # ssh-keygen refuses a line whose valid-before is not after its valid-after.
        start = key.valid_after.replace(microsecond=0) + timedelta(seconds=1)
        before = openssh_time(max(key.valid_before, start), round_up=True)
        options += f',valid-before="{before}"'
    return f"{principal(key.party.code)} {options} {key.public_key}"
