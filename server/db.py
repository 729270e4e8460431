"""The database engine and one session per request; the schema is server/migrations' work."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Requests with these methods read: on SQLite they run without a write transaction.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Execution option of the engine that reads: each statement is its own transaction.
AUTOCOMMIT_READS = "peerlex_autocommit_reads"
# Execution option of the engine of write requests: on SQLite, the write lock is taken at the
# first write rather than at the first statement.
LOCK_AT_FIRST_WRITE = "peerlex_lock_at_first_write"
_WRITE_STATEMENT_RE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


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
        # Imported here: the migrations need the models, which the engine itself does not.
        from server.migrations.upgrade import upgrade_schema

        upgrade_schema(self)

    def dispose(self) -> None:
        self.engine.dispose()


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
