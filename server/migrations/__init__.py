"""Schema migrations (Alembic) for SQLite and PostgreSQL; run by `peerlex-server db upgrade`."""
