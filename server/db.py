"""The database engine and one session per request."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Base class of every table."""


def make_engine(uri: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if uri.startswith("sqlite"):
        engine = create_engine(uri, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        return engine
    return create_engine(uri, pool_pre_ping=True)


class Database:
    """The app's engine and session factory (kept in app.extensions)."""

    def __init__(self, uri: str) -> None:
        self.engine = make_engine(uri)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)


def init_db(app: Flask, database: Database) -> None:
    app.extensions["peerlex.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def db_session() -> Session:
    """The current request's session, opened on first use."""
    from flask import current_app

    session: Session | None = g.get("db_session")
    if session is None:
        database: Database = current_app.extensions["peerlex.db"]
        session = database.sessions()
        g.db_session = session
    return session
