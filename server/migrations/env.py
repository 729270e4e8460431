"""Alembic's environment: run peerlex's migrations on the connection peerlex opened for them."""

from __future__ import annotations

from alembic import context

from server.models import Base


def run_migrations() -> None:
    """Run the migrations, inside the transaction (and lock) of the caller's connection."""
    config = context.config
    if context.is_offline_mode():
        # `peerlex-server db upgrade --sql`: print the SQL for a database administrator.
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            literal_binds=True,
            target_metadata=Base.metadata,
            render_as_batch=True,
        )
    else:
        connection = config.attributes.get("connection")
        if connection is None:
            raise RuntimeError("run migrations with `peerlex-server db upgrade`")
        # Batch mode lets one migration alter a table on SQLite (by rebuilding it) as well as
        # on PostgreSQL; compare_type makes autogenerate notice changed column types.
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
        )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
