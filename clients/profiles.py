"""Saved logins: one profile per name (server, email, token, signing key) in a file only its
owner can read."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from keys.files import replaced_whole

APP_NAME = "peerlex"
FILE_NAME = "profiles.json"
DEFAULT_PROFILE = "default"


class ProfileError(Exception):
    """The profiles file cannot be read, or a profile is missing."""


@dataclass(frozen=True)
class Profile:
    """One login: which server, as whom, and the API token it got."""

    name: str
    server: str
    email: str
    token: str
    expires_at: str
    # The SSH key this login signs with on this machine (`peerlex login --key`), if any.
    key: str = ""

    def expired(self, now: datetime | None = None) -> bool:
        try:
            expires = datetime.fromisoformat(self.expires_at.replace("Z", "+00:00"))
        except ValueError:
            return False
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return expires <= (now or datetime.now(UTC))


def config_dir() -> Path:
    """PEERLEX_CONFIG_DIR, else the user's configuration directory for peerlex."""
    override = os.environ.get("PEERLEX_CONFIG_DIR")
    return Path(override) if override else Path(click.get_app_dir(APP_NAME))


def profiles_path() -> Path:
    return config_dir() / FILE_NAME


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ProfileError(f"{path} is not valid JSON; delete it and log in again") from exc
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, dict):
        raise ProfileError(f"{path} has no profiles; delete it and log in again")
    return {str(k): v for k, v in profiles.items() if isinstance(v, dict)}


def _write(path: Path, profiles: dict[str, dict[str, Any]]) -> None:
    """Replace the file atomically; it is created 0600 and never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with replaced_whole(path) as out:
        out.write((json.dumps({"profiles": profiles}, indent=2, sort_keys=True) + "\n").encode())


def load_profile(name: str) -> Profile | None:
    """The saved profile of that name, or None when there is none."""
    entry = _read(profiles_path()).get(name)
    if entry is None:
        return None
    try:
        return Profile(
            name=name,
            server=str(entry["server"]),
            email=str(entry["email"]),
            token=str(entry["token"]),
            expires_at=str(entry.get("expires_at", "")),
            key=str(entry.get("key", "")),
        )
    except KeyError as exc:
        raise ProfileError(f"profile {name!r} is incomplete; log in again") from exc


def save_profile(profile: Profile) -> Path:
    """Add or replace a profile; returns the file it is kept in."""
    path = profiles_path()
    profiles = _read(path)
    entry = asdict(profile)
    del entry["name"]
    profiles[profile.name] = entry
    _write(path, profiles)
    return path


def delete_profile(name: str) -> bool:
    """Forget a profile; True if there was one."""
    path = profiles_path()
    profiles = _read(path)
    if profiles.pop(name, None) is None:
        return False
    _write(path, profiles)
    return True


def profile_names() -> list[str]:
    return sorted(_read(profiles_path()))
