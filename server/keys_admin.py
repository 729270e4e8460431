"""Key custody commands: rotate a party's keys, export its age identities for recovery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from flask import Flask
from sqlalchemy import select

from keys.age import identity_string
from keys.party_keys import KeyStoreError
from repo_store.attachments import AttachmentRecord, list_attachments, update_recipients
from repo_store.commits import Identity
from server.db import db_session
from server.models import Party
from server.services.attachments import blob_store
from server.services.context import services
from server.services.errors import DomainError
from server.services.recipients import encryption_recipients

ROTATION_AUTHOR = Identity("peerlex key rotation", "keys@peerlex.invalid")


@dataclass
class Rewrapped:
    """What a re-wrap for one party did: how many headers it made anew, and which attachments
    (owner/slug/id) it left as they were because their owner holds its own keys."""

    changed: int = 0
    waiting: list[str] = field(default_factory=list)


def _readable_by(party: str, owner: str) -> list[tuple[str, AttachmentRecord]]:
    store = services().store
    return [
        (summary.slug, record)
        for summary in store.list_documents(owner)
        for record in list_attachments(store, owner, summary.slug)
        if party in record.recipients
    ]


def rewrap_for_current_keys(
    party: str, reason: str, own_keys: list[X25519PublicKey] | None = None
) -> Rewrapped:
    """Re-wrap every attachment readable by party so its current keys open it (header only).

    Each blob is opened with its owner's keys (old ones included) and re-wrapped to the current
    keys of the same recipients, party's being own_keys when given; the pointer is updated by a
    commit the owner signs. The server holds no key of an owner that holds its own, so those
    attachments are left as they are and named in the answer.
    """
    store, keys, blobs = services().store, services().keys, blob_store()
    done = Rewrapped()
    for owner in db_session().scalars(select(Party).order_by(Party.code)):
        if not store.path(owner.code).exists():
            continue
        readable = _readable_by(party, owner.code)
        if owner.holds_own_keys:
            done.waiting += [f"{owner.code}/{slug}/{record.id}" for slug, record in readable]
            continue
        if not readable:
            continue
        owner_keys = [k.encryption_key for k in keys.all_private(owner.code)]
        for slug, record in readable:
            recipients = [
                key
                for code in record.recipients
                for key in (own_keys if code == party and own_keys else encryption_recipients(code))
            ]
            blob = blobs.rewrap(record.sha256, owner_keys, recipients)
            update_recipients(
                store,
                owner.code,
                slug,
                record.id,
                record.rewrapped(blob, record.recipients),
                author=ROTATION_AUTHOR,
                committer_name=owner.name,
                message=f"Re-wrap attachment {record.id} {reason}",
                expected_sha256=record.sha256,
            )
            done.changed += 1
    return done


def require_server_custody(party: str) -> None:
    """Stop a key command with a clear message for a party the server holds no keys of.

    The deployment's own key (PEERLEX) has no party row, and is held by the server.
    """
    found = db_session().scalar(select(Party).where(Party.code == party))
    if found is not None and found.holds_own_keys:
        raise click.ClickException(
            f"{party} holds its own keys: the server has no private key of it to use"
        )


def register(main: click.Group, app_for: Any) -> None:
    """Add the `keys` group to the peerlex-server command line."""

    @main.group("keys")
    def keys_group() -> None:
        """Rotate keys and export recovery identities (administrators)."""

    @keys_group.command("rotate")
    @click.argument("party")
    @click.pass_context
    def rotate(ctx: click.Context, party: str) -> None:
        """Give PARTY new keys; keep the old signing key as a verifier; re-wrap attachments."""
        app: Flask = app_for(ctx)
        with app.app_context():
            require_server_custody(party)
            try:
                old, new = services().keys.rotate(party)
                done = rewrap_for_current_keys(party, f"after {party}'s key rotation")
            except (KeyStoreError, DomainError) as exc:
                raise click.ClickException(str(exc)) from exc
            db_session().commit()
        click.echo(
            f"{party}: new key {new.key_id}; old key {old.key_id} now verifies only; "
            f"{done.changed} attachment(s) re-wrapped"
        )
        for name in done.waiting:
            click.echo(f"waiting for its owner to re-wrap it: {name}")

    @keys_group.command("export-identity")
    @click.argument("party")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @click.pass_context
    def export_identity(ctx: click.Context, party: str, yes: bool) -> None:
        """Print PARTY's age identities (for disaster recovery with the age tool)."""
        if not yes:
            click.confirm(
                f"This prints {party}'s secret decryption keys. Anyone who sees them can read "
                f"{party}'s attachments. Continue?",
                abort=True,
                err=True,
            )
        app: Flask = app_for(ctx)
        with app.app_context():
            require_server_custody(party)
            try:
                private = services().keys.all_private(party)
            except KeyStoreError as exc:
                raise click.ClickException(str(exc)) from exc
        click.echo(f"# age identities of {party}, oldest first; keep them offline")
        for keys in private:
            click.echo(f"# key {keys.key_id}")
            click.echo(identity_string(keys.encryption_key))
