"""`peerlex-server db`: upgrade the database schema, show its revision, write new migrations."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import click
from alembic import command
from flask import Flask

from server.config import Config
from server.db import Database
from server.migrations.upgrade import (
    alembic_config,
    current_revisions,
    head_revisions,
    upgrade_schema,
)


def _names(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "empty"


def register(main: click.Group, app_for: Callable[[click.Context], Flask]) -> None:
    """Add the `db` command group to the peerlex-server command line.

    Its commands work on the database alone: building the app (app_for) would already
    upgrade the schema, which `db upgrade --sql` and `db current` must not do.
    """

    @main.group("db")
    def db() -> None:
        """Manage the database schema (migrations)."""

    @db.command("upgrade")
    @click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
    @click.pass_context
    def upgrade(ctx: click.Context, sql: bool) -> None:
        """Apply the migrations the database lacks (back it up first)."""
        config: Config = ctx.obj["config"]
        database = Database(config.database_uri)
        try:
            if sql:
                with database.read_engine.connect() as connection:
                    current = current_revisions(connection)
                alembic = alembic_config()
                url = database.engine.url.render_as_string(hide_password=False)
                alembic.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
                start = ",".join(sorted(current)) or "base"
                command.upgrade(alembic, f"{start}:head", sql=True)
                return
            before, after = upgrade_schema(database)
        finally:
            database.dispose()
        if before == after:
            click.echo(f"database schema is current ({_names(after)})")
        else:
            click.echo(f"database schema upgraded from {_names(before)} to {_names(after)}")

    @db.command("current")
    @click.pass_context
    def current(ctx: click.Context) -> None:
        """Show the database's schema revision and the newest one this peerlex knows."""
        config: Config = ctx.obj["config"]
        database = Database(config.database_uri)
        try:
            with database.read_engine.connect() as connection:
                found = current_revisions(connection)
        finally:
            database.dispose()
        newest = head_revisions()
        click.echo(f"database: {_names(found)}")
        click.echo(f"newest:   {_names(newest)}")
        if found != newest:
            click.echo("run `peerlex-server db upgrade` (after a backup)")

    @db.command("revision")
    @click.option("-m", "--message", required=True, help="What the change is, e.g. 'audit log'.")
    def revision(message: str) -> None:
        """Write a new migration from the difference between the models and the newest one.

        Compares against a scratch SQLite database brought to the newest revision, so the data
        directory is not involved; review the file it writes before committing it.
        """
        with tempfile.TemporaryDirectory() as scratch:
            database = Database(f"sqlite:///{Path(scratch) / 'scratch.db'}")
            try:
                upgrade_schema(database)
                with database.engine.begin() as connection:
                    script = command.revision(
                        alembic_config(connection), message=message, autogenerate=True
                    )
            finally:
                database.dispose()
        for written in script if isinstance(script, list) else [script]:
            if written is not None:
                click.echo(f"wrote {written.path}")
