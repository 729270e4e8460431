"""Shared fixtures: a data directory with a real master key, key store and repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from keys.master import MasterKey, create_master_key
from keys.party_keys import KeyStore
from repo_store.store import RepoStore


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
