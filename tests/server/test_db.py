"""Transactions under concurrency: read-then-write never fails as "locked", reads never wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.db import Database
from server.models import LoginFailure


@pytest.fixture
def database(app: Flask) -> Database:
    found: Database = app.extensions["peerlex.db"]
    return found


def failures(database: Database) -> int:
    with database.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


@pytest.mark.parametrize("factory", ["sessions", "request_sessions"])
def test_read_then_write_transactions_in_parallel_all_commit(
    database: Database, factory: str
) -> None:
    """A transaction that reads and then writes waits for the write lock instead of failing,
    whether it took the lock up front (commands) or at its first write (write requests)."""
    sessions = getattr(database, factory)

    def read_then_write(n: int) -> None:
        with sessions() as session:
            seen = session.scalar(select(func.count()).select_from(LoginFailure))
            time.sleep(0.002)
            session.add(LoginFailure(email=f"u{n}@x.example", address=f"seen {seen}"))
            session.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(read_then_write, range(200)))
    assert failures(database) == 200


@contextmanager
def uncommitted_writer(database: Database, linger: float = 0.0) -> Iterator[threading.Event]:
    """A writer in another thread holding the write lock (an uncommitted row) until released;
    after release it waits ``linger`` seconds more, then commits."""
    locked, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with database.sessions() as session:
            session.add(LoginFailure(email="w@x.example", address="writer"))
            session.flush()
            locked.set()
            release.wait(10)
            time.sleep(linger)
            session.commit()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert locked.wait(10)
        yield release
    finally:
        release.set()
        writer.join()


def test_reads_do_not_wait_for_a_writer(database: Database) -> None:
    with uncommitted_writer(database):
        start = time.monotonic()
        assert failures(database) == 0  # the writer's row is not committed yet
        assert time.monotonic() - start < 1
    assert failures(database) == 1


def test_a_write_in_a_reading_request_waits_its_turn(database: Database) -> None:
    """GET requests may store cached results; such a write waits for a writer to finish."""
    with uncommitted_writer(database, linger=0.2) as release:
        release.set()
        with database.read_sessions() as session:
            session.add(LoginFailure(email="r@x.example", address="reader"))
            session.commit()
    assert failures(database) == 2


def test_a_write_request_holds_no_lock_until_it_writes(database: Database) -> None:
    """While a write request reads (or commits to git), writers elsewhere do not wait for it."""
    with database.request_sessions() as request_session:
        assert request_session.scalar(select(func.count()).select_from(LoginFailure)) == 0
        start = time.monotonic()
        with database.sessions() as other:
            other.add(LoginFailure(email="o@x.example", address="other writer"))
            other.commit()
        assert time.monotonic() - start < 1
        request_session.add(LoginFailure(email="r@x.example", address="request"))
        request_session.commit()
    assert failures(database) == 2


def test_a_write_request_writes_all_or_nothing(database: Database) -> None:
    with database.request_sessions() as session:
        session.add(LoginFailure(email="a@x.example", address="first"))
        session.flush()
        session.add(LoginFailure(email="b@x.example", address="second"))
        session.flush()
        session.rollback()
    assert failures(database) == 0
