"""`peerlex-server`: set up a data directory, add parties and users, and serve."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from repo_store.errors import LegacyLayout
from repo_store.store import check_layout
from server import (
    cli_accounts,
    cli_audit,
    cli_db,
    cli_ops,
    cli_setup,
    custody_admin,
    keys_admin,
    mfa_admin,
)
from server.config import Config
from server.data_dir import has_master_key, prepare_data_dir
from server.models import Custody, PartyKind
from server.passwords import WeakPassword, check_password_rules
from server.services.context import services
from server.services.party_admin import create_party
from server.services.users import (
    ADMIN,
    USER_ROLES,
    AccountRefused,
    InvalidAccountField,
    add_user,
    check_party_fields,
    check_user_fields,
    normalise_email,
)

# Every file and directory a command makes is its owner's alone: the database, the keys, the
# repositories and the bundles hold what only the parties may read (docs/deployment.md).
PRIVATE_UMASK = 0o077


def _config(ctx: click.Context) -> Config:
    config: Config = ctx.obj["config"]
    return config


def _refuse_first_layout(config: Config) -> None:
    """Stop with a clear message on a data directory of the first repository layout."""
    try:
        check_layout(config.repos_dir)
    except LegacyLayout as exc:
        raise click.ClickException(str(exc)) from exc


def _app(ctx: click.Context) -> Flask:
    from server.app import create_app

    if "app" not in ctx.obj:
        _refuse_first_layout(_config(ctx))
        app = create_app(_config(ctx))
        ctx.obj["app"] = app
        # Close the database connections when the command ends, not at interpreter exit.
        ctx.find_root().call_on_close(app.extensions["peerlex.db"].engine.dispose)
    found: Flask = ctx.obj["app"]
    return found


@click.group()
@click.option(
    "--data",
    type=click.Path(file_okay=False),
    envvar="PEERLEX_DATA",
    default="data",
    show_default=True,
    help="The data directory (also PEERLEX_DATA).",
)
@click.pass_context
def main(ctx: click.Context, data: str) -> None:
    """Run and administer a peerlex server."""
    os.umask(PRIVATE_UMASK)
    ctx.ensure_object(dict)
    ctx.obj["config"] = Config.from_env(data_dir=data)


@main.command()
@click.option("--if-missing", is_flag=True, help="Succeed quietly when already initialised.")
@cli_setup.URL_OPTION
@click.pass_context
def init(ctx: click.Context, if_missing: bool, url: str | None) -> None:
    """Create the data directory, the master key and the database; while there is no
    administrator, print a one-time link that creates the first one."""
    config = _config(ctx)
    base = cli_setup.base_url(config, url)
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _refuse_first_layout(config)
    if has_master_key(config) and not if_missing:
        raise click.ClickException(f"{config.data_dir} is already initialised")
    _make_private(config.data_dir)
    if prepare_data_dir(config):
        click.echo(f"master key written to {config.master_key_path} (mode 0600); back it up")
    click.echo(f"peerlex data directory ready: {config.data_dir}")
    cli_setup.announce_setup_link(_app(ctx), base)


def _make_private(directory: Path) -> None:
    """Close the data directory to other users; everything in it is reached through it."""
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & 0o077:
        directory.chmod(0o700)
        click.echo(f"{directory} was open to other users (mode {mode:04o}); it is now 0700")


# The command line's name for each field of a new party or user.
_OPTION_OF_FIELD = {
    "name": "--name",
    "email": "EMAIL",
    "kind": "--kind",
    "role": "--role",
    "custody": "--custody",
}


def _bad_parameter(exc: InvalidAccountField) -> click.BadParameter:
    return click.BadParameter(str(exc), param_hint=_OPTION_OF_FIELD.get(exc.field))


@main.group()
def party() -> None:
    """Manage parties (States and organisations)."""


@party.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Full name, e.g. 'Republic of Belarus'.")
@click.option("--kind", type=click.Choice([k.value for k in PartyKind]), required=True)
@click.option(
    "--custody",
    type=click.Choice([c.value for c in Custody]),
    default=Custody.SERVER.value,
    show_default=True,
    help="Who holds the party's private keys: the server, or the State's own people.",
)
@click.pass_context
def party_add(ctx: click.Context, code: str, name: str, kind: str, custody: str) -> None:
    """Add a party with its repository, and with its keys when the server holds them."""
    try:
        check_party_fields(code, name, kind, custody)
    except InvalidAccountField as exc:
        raise _bad_parameter(exc) from exc
    app = _app(ctx)
    with app.app_context():
        try:
            create_party(code, name, kind, custody, None)
        except AccountRefused as exc:
            raise click.ClickException(str(exc)) from exc
        if custody == Custody.SELF:
            click.echo(
                f"party {code} added, holding its own keys: the server has none; its experts "
                "and heads must register their SSH keys and the State's age recipients"
            )
            return
        fingerprint = services().keys.verifying_keys(code)[-1].fingerprint
    click.echo(f"party {code} added; signing key {fingerprint}")


def _read_password(prompt: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=prompt)
    return value


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("email")
@click.option("--party", "party_code", help="The party the user belongs to.")
@click.option("--role", type=click.Choice(USER_ROLES), required=True)
@click.option("--name", default="", help="Display name (defaults to the email).")
@click.pass_context
def user_add(ctx: click.Context, email: str, party_code: str | None, role: str, name: str) -> None:
    """Add a user; the password is read from stdin when it is not a terminal."""
    email = normalise_email(email)
    try:
        check_user_fields(email, name, role)
    except InvalidAccountField as exc:
        raise _bad_parameter(exc) from exc
    if role != ADMIN and not party_code:
        raise click.ClickException(f"--party is needed for role {role}")
    password = _read_password(prompt=True)
    try:
        check_password_rules(password, email=email)
    except WeakPassword as exc:
        raise click.ClickException(str(exc)) from exc
    with _app(ctx).app_context():
        try:
            add_user(email, password, role, party_code, name)
        except AccountRefused as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"user {email} added as {role}" + (f" of {party_code}" if party_code else ""))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="Requests each worker serves at once.",
)
@click.option("--dev", is_flag=True, help="Use Flask's development server (never in production).")
@click.pass_context
def run(ctx: click.Context, host: str, port: int, workers: int, threads: int, dev: bool) -> None:
    """Serve the API (gunicorn, several worker processes)."""
    config = _config(ctx)
    _refuse_first_layout(config)
    if dev:
        _app(ctx).run(host=host, port=port, threaded=True)
        return
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            # A worker takes no more connections than it has threads, and closes each one
            # after its response: a request that finds every thread busy then waits in the
            # kernel's queue, shared by all workers, and the first worker to free a thread
            # serves it. A kept-alive connection, or one queued inside a busy worker, would
            # tie its client to that worker while others sit idle (docs/deployment.md).
            self.cfg.set("worker_connections", threads)
            self.cfg.set("keepalive", 0)
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 120)
            # gunicorn's control socket lives in the home directory, shared by every server
            # of the user; peerlex does not use it, and two servers would fight over it.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            from server.app import create_app

            return create_app(config)

    _Server().run()


@main.command()
@click.option(
    "--password",
    help="The password of every demo user (default: the demo's own, printed at the end).",
)
@click.pass_context
def demo(ctx: click.Context, password: str | None) -> None:
    """Seed an empty data directory with a sample review (Dushanbe 2017) to try peerlex on."""
    from server.demo import DEMO_PASSWORD, DemoFailed, DemoRefused, seed_demo

    password = password or DEMO_PASSWORD
    try:
        check_password_rules(password)
    except WeakPassword as exc:
        raise click.BadParameter(str(exc), param_hint="--password") from exc
    try:
        report = seed_demo(_config(ctx), password)
    except (DemoRefused, DemoFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines():
        click.echo(line)


# Command groups kept in modules of their own (one responsibility each).
keys_admin.register(main, _app)
custody_admin.register(party, _app)
mfa_admin.register(user, _app)
cli_ops.register(main, _app)
cli_accounts.register(main, _app)
cli_db.register(main, _app)
cli_audit.register(main, _app)
cli_setup.register(main, _app)


if __name__ == "__main__":
    main()
