"""Saved logins: named profiles, a private file, and the configuration directory override."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from clients.profiles import (
    Profile,
    ProfileError,
    delete_profile,
    load_profile,
    profile_names,
    profiles_path,
    save_profile,
)


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PEERLEX_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def profile(name: str, expires_at: str = "2999-01-01T00:00:00+00:00") -> Profile:
    return Profile(name, "http://127.0.0.1:8000", f"{name}@x.example", f"plx_{name}", expires_at)


def test_profiles_are_kept_apart_in_a_private_file(config_dir: Path) -> None:
    save_profile(profile("blr"))
    save_profile(profile("kgz"))
    assert profiles_path() == config_dir / "profiles.json"
    assert stat.S_IMODE(profiles_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert profile_names() == ["blr", "kgz"]
    assert load_profile("kgz") == profile("kgz")
    assert delete_profile("blr")
    assert not delete_profile("blr")
    assert load_profile("blr") is None


def test_expiry_is_read_from_the_saved_date() -> None:
    assert profile("a", "2000-01-01T00:00:00Z").expired()
    assert not profile("a").expired()


def test_a_damaged_file_is_a_plain_error(config_dir: Path) -> None:
    config_dir.mkdir()
    profiles_path().write_text("{not json")
    with pytest.raises(ProfileError, match="not valid JSON"):
        load_profile("blr")
