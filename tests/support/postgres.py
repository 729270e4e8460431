"""Throwaway PostgreSQL databases on the server `scripts/with-postgres` starts, by URL."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, make_url, text

# Set by scripts/with-postgres to a throwaway cluster's maintenance database; empty: SQLite.
POSTGRES_SERVER = os.environ.get("PEERLEX_TEST_DATABASE_URL", "")


def postgres_database_url(name: str, server_url: str = POSTGRES_SERVER) -> str:
    """The URL of database `name` on the PostgreSQL server at server_url."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def recreate_postgres_database(name: str, server_url: str = POSTGRES_SERVER) -> str:
    """Drop and create an empty database on the server at server_url; answer its URL."""
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return postgres_database_url(name, server_url)
