"""`peerlex`: the command line for experts and organisers (HTTP client and offline checks)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clients.verify import verify_bundle

EXIT_OK, EXIT_FAILED = 0, 1


@click.group()
def main() -> None:
    """Work with a peerlex server, and verify final bundles offline."""


@main.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--allowed-signers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trusted allowed_signers file (else the bundle's own; check its fingerprints).",
)
def verify(bundle: Path, allowed_signers: Path | None) -> None:
    """Check a final bundle offline: one line per check, then the verdict (exit 0 if all pass)."""
    failed = 0
    for check in verify_bundle(bundle, allowed_signers):
        failed += not check.ok
        click.echo(check.line())
    if failed:
        click.echo(f"NOT VERIFIED: {failed} check(s) failed")
        sys.exit(EXIT_FAILED)
    click.echo("VERIFIED: every check passed")
    if allowed_signers is None:
        click.echo(
            "note: keys came from the bundle itself; compare their fingerprints with the "
            "parties' published ones (ssh-keygen -lf allowed_signers)"
        )
