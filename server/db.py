"""The database engine, one session per request, and schema migrations (docs/deployment.md)."""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, g, has_request_context, request
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# Requests with these methods read: on SQLite they run without a write transaction.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Execution option of the engine that reads: each statement is its own transaction.
AUTOCOMMIT_READS = "peerlex_autocommit_reads"
# Execution option of the engine of write requests: on SQLite, the write lock is taken at the
# first write rather than at the first statement.
LOCK_AT_FIRST_WRITE = "peerlex_lock_at_first_write"
_WRITE_STATEMENT_RE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Serialises schema upgrades across processes on PostgreSQL ("peerlex" + "db").
_PG_MIGRATION_LOCK = 0x7065_6572_6C65_7864


# Constraint names are spelled out so that a migration can name them the same way on SQLite
# and PostgreSQL (SQLite only alters a table by rebuilding it, and must find them by name).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SchemaError(Exception):
    """The database's schema cannot be brought to the one this code needs."""


def make_engine(uri: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE."""
    if uri.startswith("sqlite"):
        return _sqlite_engine(uri)
    return create_engine(uri, pool_pre_ping=True)


def _sqlite_engine(uri: str) -> Engine:
    engine = create_engine(uri, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would begin DEFERRED just before the first write;
        # with it off, the "begin" listener below decides how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Connection) -> None:
        # A DEFERRED transaction that reads and then writes cannot wait for the write lock
        # (SQLite answers "database is locked" at once when another writer committed since
        # its snapshot), so a transaction that may write takes the lock before it reads.
        # Reads (GET requests) begin nothing: each statement sees the newest committed data,
        # as under PostgreSQL's READ COMMITTED, and takes no lock. Write requests read the
        # same way and take the lock just before their first write (below).
        options = connection.get_execution_options()
        if not options.get(AUTOCOMMIT_READS) and not options.get(LOCK_AT_FIRST_WRITE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _sqlite_lock_before_write(
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        # A write request holds the lock only from its first write to its commit, not while
        # it checks permissions or commits to git, so that writers in other workers do not
        # queue behind a whole request. Until then it reads as a GET does, which is what
        # PostgreSQL gives every request.
        if not connection.get_execution_options().get(LOCK_AT_FIRST_WRITE):
            return
        driver: Any = connection.connection.driver_connection
        if not driver.in_transaction and _WRITE_STATEMENT_RE.match(statement):
            driver.execute("BEGIN IMMEDIATE")

    return engine


class Database:
    """The app's engine and session factories (kept in app.extensions)."""

    def __init__(self, uri: str) -> None:
        self.engine = make_engine(uri)
        # Sessions that may write (on SQLite: BEGIN IMMEDIATE).
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Sessions of requests that only read (on SQLite: no transaction, no lock).
        self.read_engine = self.engine.execution_options(**{AUTOCOMMIT_READS: True})
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        # Sessions of requests that may write (on SQLite: the lock from the first write on).
        self.request_sessions = sessionmaker(
            self.engine.execution_options(**{LOCK_AT_FIRST_WRITE: True}), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        """Bring the schema to the newest migration (creating it in an empty database)."""
        upgrade_schema(self)

    def dispose(self) -> None:
        self.engine.dispose()


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
    import server.models  # noqa: F401 - the tables an adopted database must have

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


def init_db(app: Flask, database: Database) -> None:
    app.extensions["peerlex.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def db_session() -> Session:
    """The current request's session, opened on first use.

    A GET (HEAD, OPTIONS) request reads; on SQLite it takes no write lock. Other requests
    read the same way and, on SQLite, hold the write lock from their first write to their
    commit; each statement sees the newest committed data, as under PostgreSQL. Outside a
    request (commands) a session holds the lock from its first statement.
    """
    from flask import current_app

    session: Session | None = g.get("db_session")
    if session is None:
        database: Database = current_app.extensions["peerlex.db"]
        if not has_request_context():
            session = database.sessions()
        elif request.method in READING_METHODS:
            session = database.read_sessions()
        else:
            session = database.request_sessions()
        g.db_session = session
    return session
