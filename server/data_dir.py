"""A data directory made ready for use: its master key, its database schema and its
sub-directories (the layout is in docs/deployment.md)."""

from __future__ import annotations

from keys.master import create_master_key
from server.config import Config
from server.db import Database


def has_master_key(config: Config) -> bool:
    """Whether a master key is at hand: its file, or PEERLEX_MASTER_KEY in the environment."""
    return config.master_key_path.exists() or bool(config.environ.get("PEERLEX_MASTER_KEY"))


def prepare_data_dir(config: Config) -> bool:
    """Add what the (existing) data directory lacks: a master key, the database schema at the
    newest migration, the sub-directories. Answer whether a master key was made."""
    made_key = not has_master_key(config)
    if made_key:
        create_master_key(config.master_key_path)
    database = Database(config.database_uri)
    try:
        database.create_schema()
    finally:
        database.dispose()
    for sub in (config.repos_dir, config.keys_dir, config.blobs_dir, config.bundles_dir):
        sub.mkdir(exist_ok=True)
    return made_key
