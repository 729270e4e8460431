"""Alembic's configuration for peerlex's migrations, and bringing a database's schema to the
newest of them (docs/deployment.md)."""

from __future__ import annotations

import functools
import importlib.util
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from server.models import Base

if TYPE_CHECKING:
    from server.db import Database

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent
# Serialises schema upgrades across processes on PostgreSQL ("peerlex" + "db").
_PG_MIGRATION_LOCK = 0x7065_6572_6C65_7864


class SchemaError(Exception):
    """The database's schema cannot be brought to the one this code needs."""


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """Alembic's configuration for peerlex's migrations, bound to an open connection."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if importlib.util.find_spec("ruff") is not None:
        # New revision files come out linted and formatted like the rest of the code.
        config.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
        for name, options in (
            ("ruff_fix", "check --fix --quiet REVISION_SCRIPT_FILENAME"),
            ("ruff_format", "format --quiet REVISION_SCRIPT_FILENAME"),
        ):
            config.set_section_option("post_write_hooks", f"{name}.type", "exec")
            config.set_section_option("post_write_hooks", f"{name}.executable", sys.executable)
            config.set_section_option("post_write_hooks", f"{name}.options", f"-m ruff {options}")
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revisions() -> frozenset[str]:
    """The newest migration(s) this code knows (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """The migration(s) the database is at; empty for a new database."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def schema_is_current(database: Database) -> bool:
    with database.read_engine.connect() as connection:
        current = current_revisions(connection)
    return current == head_revisions()


def upgrade_schema(database: Database) -> tuple[frozenset[str], frozenset[str]]:
    """Apply the migrations the database lacks; answer its revisions before and after.

    Safe when several processes start at once: the check and the upgrade run in one
    transaction that holds SQLite's write lock or a PostgreSQL advisory lock, so one process
    migrates and the others then find the schema current. A database made before migrations
    existed (tables, no version) is adopted: missing tables are created and it is stamped.
    """
    if schema_is_current(database):
        return head_revisions(), head_revisions()
    with database.engine.connect() as connection:
        if database.is_sqlite:
            # A table rebuild (batch migration) must not cascade deletes through foreign keys;
            # the pragma only takes effect outside a transaction.
            _sqlite_pragma(connection, "foreign_keys=OFF")
        try:
            with connection.begin():
                before = _upgrade_locked(connection)
                if database.is_sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise SchemaError(f"the migration broke foreign keys: {broken[:5]}")
                after = current_revisions(connection)
        finally:
            if database.is_sqlite:
                _sqlite_pragma(connection, "foreign_keys=ON")
    if before != after:
        log.info("database schema upgraded from %s to %s", sorted(before), sorted(after))
    return before, after


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    # Straight to the driver: through SQLAlchemy the statement would begin a transaction.
    driver: Any = connection.connection.driver_connection
    driver.execute(f"PRAGMA {pragma}")


def _upgrade_locked(connection: Connection) -> frozenset[str]:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    config = alembic_config(connection)
    before = current_revisions(connection)
    if not before and "parties" in inspect(connection).get_table_names():
        # Made by create_all before migrations: its tables match the models of that time and
        # create_all never altered a table, so create what is missing and stamp the head.
        log.warning("database without migration history: adopting it at the newest revision")
        Base.metadata.create_all(connection)
        command.stamp(config, "head")
    else:
        command.upgrade(config, "head")
    return before
