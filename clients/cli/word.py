"""What `push`, `show` and `diff` do with Word and PDF files (clients/cli/documents.py)."""

from __future__ import annotations

from pathlib import Path

import click

from clients.cli.exits import EXIT_CONFLICT, Failure
from clients.cli.output import say
from clients.client import Client
from clients.models import DocumentSummary

# One option for the file a download is written to (replaced whole, or left as it was).
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="With --docx or --pdf: the file to write (replaced whole, or left as it was).",
)


def self_custody_docx(party: str) -> Failure:
    """A .docx cannot be signed on this machine as it is: say what to send instead."""
    return Failure(
        f"{party} signs its versions on its delegates' machines, and a Word draft is converted "
        "on the server: save it as text (.md or .txt) and push that with --key; attach the "
        "original .docx with `peerlex attach --key`",
        EXIT_CONFLICT,
    )


def push_docx(
    client: Client,
    file: Path,
    party: str,
    slug: str,
    message: str,
    *,
    base: str | None,
    title: str | None,
    kind: str | None,
    language: str | None,
) -> DocumentSummary:
    return client.put_docx(
        party, slug, file, message, base=base, title=title, kind=kind, language=language
    )


def needs_output(output: Path | None, flag: str) -> Path:
    if output is None:
        raise click.UsageError(f"{flag} writes a file: name it with -o FILE")
    return output


def save_version_docx(
    client: Client, party: str, slug: str, version: str | None, output: Path
) -> None:
    size = client.document_docx(party, slug, version, output)
    say(f"wrote {output} ({size:,} bytes)")


def save_diff_file(
    client: Client,
    party: str,
    slug: str,
    output: Path,
    *,
    fmt: str,
    old: str | None,
    new: str | None,
    review: str | None,
) -> None:
    size, not_placed = client.diff_file(
        party, slug, output, fmt=fmt, old=old, new=new, review=review
    )
    say(f"wrote {output} ({size:,} bytes)")
    if not_placed:
        say(
            f"{not_placed} comment(s) of the review could not be set on their words "
            "(their quotes are no longer in the text); see them with `peerlex comments`"
        )
