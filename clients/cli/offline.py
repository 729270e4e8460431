"""`peerlex verify`: a final bundle checked offline, one line per check, then the verdict."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import click

from clients.cli.app import main
from clients.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_SIGNERS_UNCHECKED
from clients.cli.output import say
from clients.verify_report import Check


def report(checks: Iterable[Check], trusted_list: bool, trust_bundle_keys: bool) -> int:
    """Print every check and the verdict; answer the exit code it earns."""
    failed = 0
    for check in checks:
        failed += not check.ok
        say(check.line())
    if failed:
        say(f"NOT VERIFIED: {failed} check(s) failed")
        return EXIT_FAILED
    if not trusted_list and not trust_bundle_keys:
        say(
            "signatures good, signers not checked against a trusted list: pass "
            "--allowed-signers with the parties' published keys (or --trust-bundle-keys)"
        )
        return EXIT_SIGNERS_UNCHECKED
    say("VERIFIED: every check passed")
    if not trusted_list:
        say(
            "note: keys came from the bundle itself; compare their fingerprints with the "
            "parties' published ones (ssh-keygen -lf allowed_signers)"
        )
    return EXIT_OK


@main.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--allowed-signers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trusted allowed_signers file (GET /api/v1/allowed_signers, checked out of band).",
)
@click.option(
    "--trust-bundle-keys",
    is_flag=True,
    help="Without --allowed-signers, accept the bundle's own keys (exit 0, not 8).",
)
def verify(bundle: Path, allowed_signers: Path | None, trust_bundle_keys: bool) -> None:
    """Check a final bundle offline: one line per check, then the verdict (exit 0 if all pass)."""
    from clients.verify import verify_bundle  # only this command needs the crypto and git code

    code = report(
        verify_bundle(bundle, allowed_signers), allowed_signers is not None, trust_bundle_keys
    )
    if code != EXIT_OK:
        sys.exit(code)
