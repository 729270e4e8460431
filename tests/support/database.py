"""The database under test: SQLite by default, PostgreSQL under scripts/with-postgres."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import text

import server.models  # noqa: F401 - the tables to truncate
from server.db import Database
from server.models import Base
from tests.support.postgres import POSTGRES_SERVER, recreate_postgres_database

TEST_DATABASE_NAME = "peerlex_test"


class DatabasesForTests:
    """Clean, migrated databases for tests, made from one migrated per session."""

    # The schema is migrated once per session; each test then gets a clean copy cheaply
    # (SQLite: the migrated file copied; PostgreSQL: every table truncated).

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
