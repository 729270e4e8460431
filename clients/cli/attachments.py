"""`peerlex` commands for a document's attachments: streamed up and down, stored encrypted."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from clients.cli.app import F, State, main, pass_state
from clients.cli.exits import EXIT_FAILED, EXIT_INVALID, EXIT_USAGE, Failure
from clients.cli.output import Reply, json_reply, say, table
from clients.cli.rewrap import rewrap_attachments
from clients.cli.signed import attach_signed, key_option
from clients.cli.transfer import TransferProgress
from clients.models import Attachment
from clients.sealed import NoIdentityGiven, SealedAttachmentError
from keys.age import KeyFormatError, parse_identity_file


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--party", required=True)
@click.option("--slug", required=True)
@click.option("--name", help="The file name to record (default: FILE's name).")
@click.option("--type", "media_type", help="The media type (default: guessed from the name).")
@click.option("--base", help="Refuse if the document changed since this version.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the attachment's id.")
@key_option()
@json_reply
@pass_state
def attach(
    state: State,
    file: Path,
    party: str,
    slug: str,
    name: str | None,
    media_type: str | None,
    base: str | None,
    quiet: bool,
    key: Path | None,
) -> Reply:
    """Attach a file to a document; it is streamed and stored encrypted.

    With a key (--key, or saved by `peerlex login --key`) and a State that holds its own keys,
    the file is encrypted here to the document's recipients and the commit that records it is
    signed here; the server never sees the plaintext.
    """
    client = state.client()
    signing_key = state.signing_key(key)
    name = name or file.name
    media_type = media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if signing_key is not None:
        email = state.saved().email
        record = attach_signed(
            client,
            signing_key,
            email,
            party,
            slug,
            file,
            name=name,
            media_type=media_type,
            base=base,
        )
    else:
        with TransferProgress(f"uploading {file.name}") as progress:
            record = client.upload_attachment(
                party, slug, file, name=name, media_type=media_type, base=base, progress=progress
            )

    def show() -> None:
        if quiet:
            say(record["id"])
            return
        say(
            f"attached {record['name']} ({record['size']} bytes, {record['media_type']}) "
            f"to {party}/{slug} as {record['id']}"
        )

    return Reply(record, show)


def _print_attachments(found: list[Attachment], quiet: bool) -> None:
    if quiet:
        for a in found:
            say(a["id"])
        return
    table([(a["id"], str(a["size"]), a["media_type"], a["uploaded_by"], a["name"]) for a in found])


@main.command()
@click.argument("party")
@click.argument("slug")
@click.option("-q", "--quiet", is_flag=True, help="Print only the attachment ids.")
@json_reply
@pass_state
def attachments(state: State, party: str, slug: str, quiet: bool) -> Reply:
    """A document's attachments you may read."""
    found = state.client().attachments(party, slug)
    return Reply(found, lambda: _print_attachments(found, quiet))


def identity_option() -> Callable[[F], F]:
    """--identity: the age identity file of a State that holds its own keys."""

    def add(command: F) -> F:
        return click.option(
            "--identity",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            envvar="PEERLEX_AGE_IDENTITY",
            help="An age identity file (AGE-SECRET-KEY-1...) of your State, which holds its own "
            "keys: it opens the attachments the server sends sealed (also PEERLEX_AGE_IDENTITY).",
        )(command)

    return add


def identities_in(path: Path | None) -> list[X25519PrivateKey]:
    if path is None:
        return []
    try:
        return parse_identity_file(path.read_text(encoding="utf-8"))
    except (KeyFormatError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--identity") from exc


@main.command("fetch-attachment")
@click.argument("party")
@click.argument("slug")
@click.argument("attachment_id")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@identity_option()
@pass_state
def fetch_attachment(
    state: State,
    party: str,
    slug: str,
    attachment_id: str,
    output: Path,
    identity: Path | None,
) -> None:
    """Download an attachment into a file: decrypted for you by the server, or, for a State
    holding its own keys, sent sealed and opened here with --identity."""
    identities = identities_in(identity)
    client = state.client()
    try:
        with TransferProgress(f"downloading {output.name}") as progress:
            size = client.download_attachment(
                party, slug, attachment_id, output, progress=progress, identities=identities
            )
    except NoIdentityGiven as exc:
        raise Failure(str(exc), EXIT_USAGE) from exc
    except SealedAttachmentError as exc:
        raise Failure(str(exc), EXIT_FAILED) from exc
    say(f"saved {size} bytes to {output}")


@main.command()
@click.argument("party")
@click.argument("slug")
@identity_option()
@key_option()
@pass_state
def rewrap(state: State, party: str, slug: str, identity: Path | None, key: Path | None) -> None:
    """Re-wrap a document's attachments here, for the readers a share added and for the final
    bundle's offline recipients (a State that holds its own keys; `share` does it too)."""
    for line in rewrap_here(state, party, slug, identity, key, required=True):
        say(line)


def rewrap_here(
    state: State,
    party: str,
    slug: str,
    identity: Path | None,
    key: Path | None,
    *,
    required: bool,
) -> list[str]:
    """Re-wrap what waits, if this machine has the key and identity to; say what was done."""
    signing_key, identities = state.signing_key(key), identities_in(identity)
    if signing_key is None or not identities:
        if not required:
            return []
        raise Failure(
            "re-wrapping needs your SSH key (--key, or `peerlex login --key`) and your State's "
            "age identity (--identity or PEERLEX_AGE_IDENTITY)",
            EXIT_INVALID,
        )
    client = state.client()
    done = rewrap_attachments(client, signing_key, state.saved().email, identities, party, slug)
    return done or ([f"nothing of {party}/{slug} waits to be re-wrapped"] if required else [])
