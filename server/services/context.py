"""The app-wide objects services need: configuration, keys and repositories."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from keys.party_keys import KeyStore
from repo_store.store import RepoStore
from server.config import Config


@dataclass(frozen=True)
class Services:
    config: Config
    keys: KeyStore
    store: RepoStore


def services() -> Services:
    found: Services = current_app.extensions["peerlex.services"]
    return found
