"""Operator commands: `fsck` for the whole data directory."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import Flask

from server.fsck import run_fsck


def register(main: click.Group, app_for: Callable[[click.Context], Flask]) -> None:
    """Add `fsck` to the peerlex-server command line."""

    @main.command("fsck")
    @click.pass_context
    def fsck(ctx: click.Context) -> None:
        """Verify repositories, signatures, blobs, approvals and the audit log; exit 1 on any
        problem, printing one line for each."""
        problems = 0
        with app_for(ctx).app_context():
            for problem in run_fsck():
                problems += 1
                click.echo(problem)
        if problems:
            click.echo(f"{problems} problem(s) found", err=True)
            sys.exit(1)
        click.echo("fsck: no problems found", err=True)
