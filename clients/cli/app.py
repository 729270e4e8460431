"""The `peerlex` command group: the profile every command acts as, and its error handling."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from clients.cli.exits import EXIT_AUTH, Failure, failure_of, login_hint
from clients.client import Client
from clients.profiles import DEFAULT_PROFILE, Profile, load_profile

DEFAULT_SERVER = "http://127.0.0.1:8000"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    """What every command shares: the profile it acts as."""

    profile: str

    def saved(self) -> Profile:
        profile = load_profile(self.profile)
        if profile is None:
            raise Failure(
                f"not logged in (profile {self.profile}); "
                f"run: peerlex {login_hint(self.profile)}login --email EMAIL",
                EXIT_AUTH,
            )
        if profile.expired():
            raise Failure(
                f"the session of profile {self.profile} expired at {profile.expires_at}; "
                "log in again",
                EXIT_AUTH,
            )
        return profile

    def client(self) -> Client:
        profile = self.saved()
        return Client(profile.server, profile.token)

    def signing_key(self, given: Path | None) -> Path | None:
        """The key to sign with on this machine: the one given, else the profile's."""
        if given is not None:
            return given
        saved = self.saved().key
        return Path(saved) if saved else None


class PeerlexGroup(click.Group):
    """A click group that turns every error into one plain line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            state = ctx.find_object(State)
            failure = failure_of(exc, state.profile if state else DEFAULT_PROFILE)
            if failure is None:
                raise
            raise failure from None


pass_state = click.make_pass_decorator(State)


def version_options(version_help: str) -> Callable[[F], F]:
    """--party, --slug and --version: one version of one document, all three required."""

    def add(command: F) -> F:
        command = click.option("--version", "version", required=True, help=version_help)(command)
        command = click.option("--slug", required=True)(command)
        return click.option("--party", required=True)(command)

    return add


@click.group(cls=PeerlexGroup)
@click.option(
    "--profile",
    envvar="PEERLEX_PROFILE",
    default=DEFAULT_PROFILE,
    show_default=True,
    help="Which saved login to act as (also PEERLEX_PROFILE).",
)
@click.version_option(package_name="peerlex")
@click.pass_context
def main(ctx: click.Context, profile: str) -> None:
    """Work with a peerlex server, and verify final bundles offline."""
    # Saved logins and downloaded attachments and bundles are the user's alone.
    os.umask(0o077)
    ctx.obj = State(profile)
