"""Schema migrations: they build exactly the models' schema, once, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import inspect

from server.cli import main
from server.db import Database
from server.migrations.upgrade import (
    alembic_config,
    current_revisions,
    head_revisions,
    upgrade_schema,
)
from server.models import Base
from tests.support.postgres import POSTGRES_SERVER, recreate_postgres_database


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    """An empty database of the kind under test."""
    if POSTGRES_SERVER:
        return recreate_postgres_database("peerlex_migrations")
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def empty(empty_url: str) -> Iterator[Database]:
    database = Database(empty_url)
    yield database
    database.dispose()


def differences(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        found: list[object] = compare_metadata(context, Base.metadata)
        connection.rollback()
    return found


def test_one_head() -> None:
    """Two migrations written in parallel must be merged before they ship."""
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_migrations_build_the_models_schema(empty: Database) -> None:
    """Fails when a model changed without a migration: run `peerlex-server db revision -m`."""
    upgrade_schema(empty)
    assert differences(empty) == []


def test_upgrade_is_idempotent(empty: Database) -> None:
    assert upgrade_schema(empty) == (frozenset(), head_revisions())
    assert upgrade_schema(empty) == (head_revisions(), head_revisions())


def test_downgrade_to_empty_and_up_again(empty: Database) -> None:
    upgrade_schema(empty)
    with empty.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    with empty.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    upgrade_schema(empty)
    assert differences(empty) == []


def test_a_database_made_before_migrations_is_adopted(empty: Database) -> None:
    Base.metadata.create_all(empty.engine)
    upgrade_schema(empty)
    with empty.engine.connect() as connection:
        assert current_revisions(connection) == head_revisions()
    assert differences(empty) == []


def test_processes_starting_at_once_migrate_once(empty_url: str, tmp_path: Path) -> None:
    """Every worker of a new deployment upgrades at start; the lock lets one do it."""
    env = {"PEERLEX_DATABASE_URL": empty_url, "PATH": "/usr/bin:/bin"}
    command_line = [sys.executable, "-m", "server.cli", "--data", str(tmp_path), "db", "upgrade"]

    def upgrade(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command_line, env=env, capture_output=True, text=True, check=False)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(upgrade, range(4)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    upgraded = [r.stdout for r in results if "upgraded from empty" in r.stdout]
    assert len(upgraded) == 1, [r.stdout for r in results]
    database = Database(empty_url)
    try:
        assert differences(database) == []
    finally:
        database.dispose()


def test_db_commands(empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLEX_DATABASE_URL", empty_url)
    runner = CliRunner()
    data = ["--data", str(tmp_path)]
    before = runner.invoke(main, [*data, "db", "current"])
    assert before.exit_code == 0, before.output
    assert "database: empty" in before.output
    assert "db upgrade" in before.output
    sql = runner.invoke(main, [*data, "db", "upgrade", "--sql"])
    assert sql.exit_code == 0, sql.output
    assert "CREATE TABLE parties" in sql.output
    done = runner.invoke(main, [*data, "db", "upgrade"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(main, [*data, "db", "upgrade"])
    assert "is current" in again.output
    after = runner.invoke(main, [*data, "db", "current"])
    assert "db upgrade" not in after.output
