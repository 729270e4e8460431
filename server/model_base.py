"""The tables' declarative base: naming of constraints, times in UTC, and the id range."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Ids are INTEGER columns: 32 bits on PostgreSQL. A larger number names nothing, and must not
# reach the database, which would refuse it (or, on SQLite, Python's driver would).
ID_MAX = 2**31 - 1

# Constraint names are spelled out so that a migration can name them the same way on SQLite
# and PostgreSQL (SQLite only alters a table by rebuilding it, and must find them by name).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcTime(TypeDecorator[datetime]):
    """A moment in UTC: stored without a zone (as every column always was), read back aware.

    Python code sees only aware times, so a time never loses its offset on the way to a
    payload and naive and aware times are never compared.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a time without its zone cannot be stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base class of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcTime}


def utcnow() -> datetime:
    return datetime.now(UTC)
