"""Shared fixtures: a master key, key store and repositories, and the database under test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

import server.models  # noqa: F401 - the tables to truncate
from keys.master import MasterKey, create_master_key
from keys.party_keys import KeyStore
from repo_store.store import RepoStore
from server.db import Database
from server.models import Base


@pytest.fixture
def master(tmp_path: Path) -> MasterKey:
    return create_master_key(tmp_path / "master.key")


@pytest.fixture
def keystore(tmp_path: Path, master: MasterKey) -> KeyStore:
    return KeyStore(tmp_path / "keys", master)


@pytest.fixture
def store(tmp_path: Path, keystore: KeyStore) -> RepoStore:
    repos = RepoStore(tmp_path / "repos", keystore)
    for party in ("BLR", "KGZ"):
        keystore.create(party)
        repos.create_repository(party)
    return repos


# -- the database under test ------------------------------------------------------------------
# `make test` runs the suite twice: on SQLite (the default) and on PostgreSQL, when
# scripts/with-postgres sets PEERLEX_TEST_DATABASE_URL to a throwaway cluster's maintenance
# database. The schema is migrated once per session; each test then gets a clean copy cheaply
# (SQLite: the migrated file copied; PostgreSQL: every table truncated).

POSTGRES_SERVER = os.environ.get("PEERLEX_TEST_DATABASE_URL", "")
TEST_DATABASE_NAME = "peerlex_test"


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_SERVER:
        return f"database: PostgreSQL ({make_url(POSTGRES_SERVER).render_as_string()})"
    return "database: SQLite"


def postgres_database_url(name: str) -> str:
    """The URL of database `name` on the test PostgreSQL server."""
    return make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)


def recreate_postgres_database(name: str) -> str:
    """Drop and create an empty database on the test server; answer its URL."""
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return postgres_database_url(name)


class DatabasesForTests:
    """Clean, migrated databases for tests, made from one migrated per session."""

    def __init__(self, scratch: Path) -> None:
        self.template: Path | None = None
        self.url: str | None = None
        if POSTGRES_SERVER:
            self.url = recreate_postgres_database(TEST_DATABASE_NAME)
            self.database = Database(self.url)
            self.database.create_schema()
            # Children first, so that TRUNCATE needs no CASCADE guesswork.
            tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            self._truncate = text(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY"
            )
        else:
            self.template = scratch / "peerlex.db"
            template = Database(f"sqlite:///{self.template}")
            template.create_schema()
            template.dispose()

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    def clean(self, data_dir: Path) -> str | None:
        """Make a clean database for a test whose data directory is data_dir; answer its URL
        (None: SQLite in data_dir/peerlex.db, the default)."""
        if self.template is not None:
            shutil.copyfile(self.template, data_dir / "peerlex.db")
            return None
        with self.database.engine.begin() as connection:
            # Connections an earlier test left open (e.g. a server it stopped abruptly) must
            # not hold a lock the TRUNCATE waits for.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            connection.execute(self._truncate)
        return self.url

    def close(self) -> None:
        if self.is_postgres:
            self.database.dispose()


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabasesForTests]:
    databases = DatabasesForTests(tmp_path_factory.mktemp("database-template"))
    yield databases
    databases.close()


@pytest.fixture
def clean_database(test_databases: DatabasesForTests) -> Callable[[Path], str | None]:
    """Call with a data directory: a clean migrated database for this test, and its URL."""
    return test_databases.clean
