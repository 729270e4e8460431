"""`peerlex-server setup-link`, and the set-up link `init` prints: the way to the first
administrator of a deployment (server/services/setup.py)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import click
from flask import Flask

from server.config import Config
from server.data_dir import has_master_key
from server.services.setup import admin_exists, issue_setup_link
from server.services.users import AccountRefused

# Where `peerlex-server run` serves by default; localhost rather than 127.0.0.1, because
# security keys work at a name only (docs/decisions.md).
DEFAULT_URL = "http://localhost:8000"

URL_OPTION = click.option(
    "--url",
    "url",
    help="The address browsers reach this server at, for the set-up link "
    f"(default: PEERLEX_PUBLIC_URL, else {DEFAULT_URL}).",
)


def base_url(config: Config, given: str | None) -> str:
    """The site's address for links: --url, else PEERLEX_PUBLIC_URL, else the default."""
    if not given:
        return config.public_url or DEFAULT_URL
    parts = urlsplit(given.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            "an http(s) URL such as https://peerlex.example.org", param_hint="--url"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise click.BadParameter(
            "the site's address, with no query, fragment or user", param_hint="--url"
        )
    if any(c.isspace() or not c.isprintable() for c in given.strip()):
        raise click.BadParameter(
            "an address without spaces or control characters", param_hint="--url"
        )
    return given.strip().rstrip("/")


def print_setup_link(url: str) -> None:
    click.echo("Open this link in a browser to create the first administrator")
    click.echo("(it works once, for 24 hours; `peerlex-server setup-link` prints a fresh one):")
    click.echo(url)


def announce_setup_link(app: Flask, base: str) -> None:
    """Print a fresh set-up link while the deployment has no administrator (init does)."""
    with app.app_context():
        if admin_exists():
            return
        url = issue_setup_link(base)
    print_setup_link(url)


def register(main: click.Group, app_for: Callable[[click.Context], Flask]) -> None:
    """Add `setup-link` to the peerlex-server command line."""

    @main.command("setup-link")
    @URL_OPTION
    @click.pass_context
    def setup_link(ctx: click.Context, url: str | None) -> None:
        """Print a fresh one-time link that creates the first administrator (older unused
        links stop working); refused once an administrator exists."""
        config: Config = ctx.obj["config"]
        base = base_url(config, url)
        if not has_master_key(config):
            raise click.ClickException(
                f"{config.data_dir} is not set up: run `peerlex-server init`"
            )
        with app_for(ctx).app_context():
            try:
                link = issue_setup_link(base)
            except AccountRefused as exc:
                raise click.ClickException(str(exc)) from exc
        print_setup_link(link)
