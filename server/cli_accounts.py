"""`peerlex-server party rename` and `user role|disable|enable|end-sessions`: the same services,
and so the same rules and audit entries, as the administration pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import Flask

from server.models import User
from server.services.party_admin import rename_party
from server.services.user_admin import end_sessions, find_user, set_enabled, set_role
from server.services.users import USER_ROLES, AccountRefused


@contextmanager
def _refusals_as_errors() -> Iterator[None]:
    """A refusal of the service ends the command with its message and exit status 1."""
    try:
        yield
    except AccountRefused as exc:
        raise click.ClickException(str(exc)) from exc


def register(main: click.Group, app_for: Callable[[click.Context], Flask]) -> None:
    """Add `party rename` and `user role|disable|enable|end-sessions` to the command line."""
    party_group, user_group = main.commands["party"], main.commands["user"]
    assert isinstance(party_group, click.Group)  # noqa: S101 - wiring, checked at start-up
    assert isinstance(user_group, click.Group)  # noqa: S101

    @party_group.command("rename")
    @click.argument("code")
    @click.option("--name", required=True, help="The party's new full name.")
    @click.pass_context
    def rename(ctx: click.Context, code: str, name: str) -> None:
        """Rename a party (audited); its code, keys and history stay as they are."""
        with app_for(ctx).app_context(), _refusals_as_errors():
            rename_party(code, name, None)
        click.echo(f"party {code} renamed to {name}")

    def _on_user(ctx: click.Context, email: str, act: Callable[[User], None]) -> str:
        with app_for(ctx).app_context(), _refusals_as_errors():
            account = find_user(email)
            act(account)
            return account.email

    @user_group.command("role")
    @click.argument("email")
    @click.argument("role", type=click.Choice(USER_ROLES))
    @click.option("--party", "party_code", help="The party (default: the user's present one).")
    @click.pass_context
    def role(ctx: click.Context, email: str, role: str, party_code: str | None) -> None:
        """Change a user's role (audited); an administrator belongs to no party."""
        done = _on_user(ctx, email, lambda account: set_role(account, role, party_code, None))
        click.echo(f"user {done} is now {role}" + (f" of {party_code}" if party_code else ""))

    @user_group.command("disable")
    @click.argument("email")
    @click.pass_context
    def disable(ctx: click.Context, email: str) -> None:
        """Disable an account: every session and API token of it ends at once (audited)."""
        done = _on_user(ctx, email, lambda account: set_enabled(account, False, None))
        click.echo(f"user {done} disabled; its sessions and tokens are revoked")

    @user_group.command("enable")
    @click.argument("email")
    @click.pass_context
    def enable(ctx: click.Context, email: str) -> None:
        """Enable a disabled account again (audited)."""
        done = _on_user(ctx, email, lambda account: set_enabled(account, True, None))
        click.echo(f"user {done} enabled")

    @user_group.command("end-sessions")
    @click.argument("email")
    @click.pass_context
    def end(ctx: click.Context, email: str) -> None:
        """End every session and API token of a user: they sign in again (audited)."""
        done = _on_user(ctx, email, lambda account: end_sessions(account, None))
        click.echo(f"every session and API token of {done} has ended")
