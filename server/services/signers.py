"""The allowed_signers files the server publishes: every key with its party's namespaces."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from keys.allowed_signers import AllowedSigner, render
from keys.merkle import DEPLOYMENT_PARTY
from server.db import db_session
from server.models import Party
from server.services.audit.checkpoints import ensure_deployment_key
from server.services.context import services


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
    codes = keys.parties() if parties is None else parties
    return render(
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
