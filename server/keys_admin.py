"""Key custody commands: rotate a party's keys, export its age identities for recovery."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from sqlalchemy import select

from keys.age import identity_string
from repo_store.attachments import list_attachments, update_recipients
from repo_store.commits import Identity
from server.db import db_session
from server.models import Party
from server.services.attachments import blob_store
from server.services.context import services

ROTATION_AUTHOR = Identity("peerlex key rotation", "keys@peerlex.invalid")


def rewrap_for_current_keys(party: str) -> int:
    """Re-wrap every attachment readable by party so its current key opens it (header only).

    Each blob is opened with its owner's keys (old ones included) and re-wrapped to the current
    keys of the same recipients; the pointer is updated by a commit the owner signs.
    """
    store, keys, blobs = services().store, services().keys, blob_store()
    changed = 0
    for owner in db_session().scalars(select(Party).order_by(Party.code)):
        if not store.path(owner.code).exists():
            continue
        owner_keys = [k.encryption_key for k in keys.all_private(owner.code)]
        for summary in store.list_documents(owner.code):
            for record in list_attachments(store, owner.code, summary.slug):
                if party not in record.recipients:
                    continue
                recipients = [keys.encryption_public_key(code) for code in record.recipients]
                blob = blobs.rewrap(record.sha256, owner_keys, recipients)
                update_recipients(
                    store,
                    owner.code,
                    summary.slug,
                    record.id,
                    record.rewrapped(blob, record.recipients),
                    author=ROTATION_AUTHOR,
                    committer_name=owner.name,
                    message=f"Re-wrap attachment {record.id} after {party}'s key rotation",
                    expected_sha256=record.sha256,
                )
                changed += 1
    return changed


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
            found = services()
            old, new = found.keys.rotate(party)
            count = rewrap_for_current_keys(party)
            db_session().commit()
        click.echo(
            f"{party}: new key {new.key_id}; old key {old.key_id} now verifies only; "
            f"{count} attachment(s) re-wrapped"
        )

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
            private = services().keys.all_private(party)
        click.echo(f"# age identities of {party}, oldest first; keep them offline")
        for keys in private:
            click.echo(f"# key {keys.key_id}")
            click.echo(identity_string(keys.encryption_key))
