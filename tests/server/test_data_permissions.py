"""The data directory is its owner's alone: after `peerlex-server init`, a document, an
attachment and a final bundle, no file or directory in it is open to group or others."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keys.master import create_master_key
from server.app import create_app
from server.config import Config
from tests.bundle_fixtures import Agreed
from tests.support.accounts import TEST_SCRYPT_N
from tests.support.live_server import PEERLEX_SERVER
from tests.support.postgres import POSTGRES_SERVER
from tests.support.umask import umask_set_to


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """What a service account often has (022): the code, not the umask, must keep data private."""
    with umask_set_to(0o022):
        yield


def _server_env(data: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
    env["PEERLEX_DATA"] = str(data)
    if database_url:
        env["PEERLEX_DATABASE_URL"] = database_url
    return env


def _init(data: Path, database_url: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PEERLEX_SERVER, "init", "--if-missing"],
        env=_server_env(data, database_url),
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture
def config(
    tmp_path: Path, clean_database: Callable[[Path], str | None], permissive_umask: None
) -> Config:
    """A data directory made by `peerlex-server init` (the app fixture then serves it)."""
    data = tmp_path / "srv" / "data"
    # On PostgreSQL the rows live elsewhere; on SQLite init makes the database file itself.
    database_url = clean_database(data) if POSTGRES_SERVER else None
    _init(data, database_url)
    return Config(
        data_dir=data,
        database_url=database_url,
        scrypt_n=TEST_SCRYPT_N,
        testing=True,
        secure_cookies=False,
        require_mfa="none",
    )


def _open_to_others(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root)} {mode:04o}")
    return found


def test_nothing_in_the_data_directory_is_open_to_other_users(
    config: Config, agreed: Agreed
) -> None:
    """Database (and its WAL), master key, wrapped keys, repositories, blobs and bundles:
    every one 0600 or stricter, every directory 0700 or stricter."""
    data = config.data_dir
    made = {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()}
    expected = ["master.key", "keys/BLR.json", "bundles/dushanbe-2017.tar"]
    if not POSTGRES_SERVER:
        expected += ["peerlex.db", "peerlex.db-wal", "peerlex.db-shm"]
    assert set(expected) <= made, sorted(made)
    assert any(name.startswith("repos/BLR") and "/objects/" in name for name in made)
    assert any(name.startswith("blobs/") and name.endswith(".age") for name in made)
    assert _open_to_others(data) == []


def test_init_closes_an_existing_data_directory(tmp_path: Path, permissive_umask: None) -> None:
    """A directory made by hand (0755) is made 0700 by `init`, which says so."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    done = _init(data, None)
    assert "it is now 0700" in done.stdout
    assert _open_to_others(data) == []


def test_the_app_warns_about_an_open_data_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, permissive_umask: None
) -> None:
    """The server does not change a mode an operator set, but says that it is open."""
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o750)
    create_master_key(data / "master.key")
    with caplog.at_level(logging.WARNING, logger="server.app"):
        app = create_app(Config(data_dir=data, testing=True, secure_cookies=False))
    app.extensions["peerlex.db"].engine.dispose()
    assert any("open to other users" in r.getMessage() for r in caplog.records)
    assert stat.S_IMODE(data.stat().st_mode) == 0o750
