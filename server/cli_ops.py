"""Operator commands: `fsck` for the whole data directory, and disabling a user account."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import Flask
from sqlalchemy import select

from server.db import db_session
from server.fsck import run_fsck
from server.models import User
from server.signin import end_every_session


def register(main: click.Group, app_for: Callable[[click.Context], Flask]) -> None:
    """Add `fsck` and `user disable` to the peerlex-server command line."""

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

    user_group = main.commands["user"]
    assert isinstance(user_group, click.Group)  # noqa: S101 - wiring, checked at start-up

    @user_group.command("disable")
    @click.argument("email")
    @click.pass_context
    def disable(ctx: click.Context, email: str) -> None:
        """Disable an account: every session and API token of it ends at once."""
        with app_for(ctx).app_context():
            session = db_session()
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise click.ClickException(f"no user {email}")
            user.active = False
            end_every_session(user)
            session.commit()
        click.echo(f"user {email} disabled; its sessions and tokens are revoked")
