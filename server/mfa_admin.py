"""`peerlex-server user reset-mfa`: take away a user's second factors when they lost them."""

from __future__ import annotations

from typing import Any

import click

from server.services.user_admin import NoSuchUser, find_user, reset_factors
from server.services.users import normalise_email


def register(user_group: click.Group, app_for: Any) -> None:
    """Add `reset-mfa` to the `user` command group."""

    @user_group.command("reset-mfa")
    @click.argument("email")
    @click.pass_context
    def reset_mfa(ctx: click.Context, email: str) -> None:
        """Remove every second factor and recovery code of a user and end their sessions and
        API tokens (audited). Someone who must hold a factor then enrols a new one first."""
        email = normalise_email(email)
        with app_for(ctx).app_context():
            try:
                found = find_user(email)
            except NoSuchUser as exc:
                raise click.ClickException(str(exc)) from exc
            removed = reset_factors(found, None, "peerlex-server user reset-mfa")
        click.echo(
            f"second factors of {email} reset ({removed} removed); "
            "their sessions and API tokens are ended"
        )
