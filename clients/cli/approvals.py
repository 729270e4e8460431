"""`peerlex` commands that end a review: approvals, offline recipients, the final bundle."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from clients.cli.app import State, main, pass_state, version_options
from clients.cli.mfa import code_option, with_step_up
from clients.cli.output import Reply, json_reply, say, table
from clients.cli.signed import approve_signed, key_option, needs_key, signature_required
from clients.cli.transfer import TransferProgress
from clients.errors import Conflict
from clients.models import Approval


@main.command()
@click.argument("review")
@version_options("The version last shared.")
@key_option()
@code_option
@json_reply
@pass_state
def approve(
    state: State,
    review: str,
    party: str,
    slug: str,
    version: str,
    key: Path | None,
    code: str | None,
) -> Reply:
    """Approve your State's final version of a document (heads, in the agreement state).

    With a key (--key, or saved by `peerlex login --key`) the statement is signed on this
    machine; a State that holds its own keys approves only so. A sign-in older than 15
    minutes needs a fresh code of your authenticator app (--code, or asked for).
    """
    client, signing_key = state.client(), state.signing_key(key)

    def approve_with(fresh: str | None) -> Approval:
        if signing_key is not None:
            email = state.saved().email
            return approve_signed(
                client, signing_key, email, review, party, slug, version, code=fresh
            )
        return client.approve(review, party, slug, version, code=fresh)

    try:
        made = with_step_up(approve_with, code)
    except Conflict as exc:
        if signature_required(exc):
            raise needs_key(party) from None
        raise
    return Reply(
        made,
        lambda: say(
            f"approved {party}/{slug} version {made['version']} in {review} "
            f"(signed statement by {made['approved_by']})"
        ),
    )


@main.command()
@click.argument("review")
@json_reply
@pass_state
def approvals(state: State, review: str) -> Reply:
    """Every approval made in a review (voided ones marked)."""
    found = state.client().approvals(review)
    return Reply(
        found,
        lambda: table(
            [
                (
                    f"{a['party']}/{a['slug']}",
                    a["version"],
                    a["approved_by"],
                    "VOIDED by a later share" if a["voided"] else "standing",
                )
                for a in found
            ]
        ),
    )


@main.group()
def recipient() -> None:
    """Offline age recipients: an organisation's (for bundles), a self-custody State's."""


@recipient.command("add")
@click.argument("party")
@click.argument("age_recipient", metavar="AGE_RECIPIENT")
@click.option("--label", default="", help="Where the identity is kept, e.g. 'safe in Vienna'.")
@json_reply
@pass_state
def recipient_add(state: State, party: str, age_recipient: str, label: str) -> Reply:
    """Register an age recipient (age1...) whose identity never reaches the server."""
    added = state.client().add_recipient(party, age_recipient.strip(), label)
    return Reply(added, lambda: say(f"{party} now has the offline recipient {added['recipient']}"))


@recipient.command("list")
@click.argument("party")
@json_reply
@pass_state
def recipient_list(state: State, party: str) -> Reply:
    """The offline age recipients of your organisation."""
    found = state.client().recipients(party)
    return Reply(found, lambda: table([(r["recipient"], r["label"]) for r in found]))


@main.group()
def bundle() -> None:
    """The signed final bundle of a review."""


@bundle.command("build")
@click.argument("review")
@code_option
@json_reply
@pass_state
def bundle_build(state: State, review: str, code: str | None) -> Reply:
    """Build the final bundle once every shared document is approved; this closes the review.

    A sign-in older than 15 minutes needs a fresh code of your authenticator app (--code, or
    asked for).
    """
    client = state.client()
    info = with_step_up(lambda fresh: client.build_bundle(review, code=fresh), code)
    return Reply(
        info,
        lambda: say(
            f"built the final bundle of {info['review']}: {info['documents']} document(s), "
            f"{info['attachments']} attachment(s), {info['size']} bytes, sha256 {info['sha256']}"
        ),
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@bundle.command("pull")
@click.argument("review")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def bundle_pull(state: State, review: str, output: Path) -> None:
    """Download the final bundle (organisers); check it with `peerlex verify`."""
    client = state.client()
    with TransferProgress(f"downloading {output.name}") as progress:
        size = client.download_bundle(review, output, progress=progress)
    say(f"saved {size} bytes to {output} (sha256 {file_sha256(output)})")


@main.command("allowed-signers")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def allowed_signers_save(state: State, output: Path) -> None:
    """Save the keys the server publishes, for `peerlex verify --allowed-signers FILE`."""
    text = state.client().allowed_signers()
    output.write_text(text, encoding="utf-8")
    count = sum(1 for line in text.splitlines() if line.strip())
    click.echo(
        f"saved {count} key(s) to {output}; compare their fingerprints with the parties' "
        f"(ssh-keygen -lf {output})"
    )
