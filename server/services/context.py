"""The app-wide objects services need (configuration, keys, second-factor secrets,
repositories, database, limits), and the current request's id, found through the one lookup
the application installs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keys.factor_secrets import FactorSecrets
from keys.party_keys import KeyStore
from repo_store.store import RepoStore
from server.config import Config
from server.db import Database

if TYPE_CHECKING:
    from server.services.diffs import DiffCache
    from server.services.limits import WorkGate


@dataclass(frozen=True)
class Services:
    config: Config
    keys: KeyStore
    store: RepoStore
    database: Database
    work_gate: WorkGate
    diff_cache: DiffCache
    factor_secrets: FactorSecrets


@dataclass(frozen=True)
class Surroundings:
    """How services find the running application's Services and the request they serve.

    server/app.py installs one; services never read the web framework's globals themselves.
    """

    services: Callable[[], Services]
    request_id: Callable[[], str]


_installed: list[Surroundings] = []


def install(surroundings: Surroundings) -> None:
    """Tell services where the running application keeps its objects (once per process)."""
    _installed[:] = [surroundings]


def _surroundings() -> Surroundings:
    if not _installed:
        raise RuntimeError("no application: create_app() installs the services' surroundings")
    return _installed[0]


def services() -> Services:
    return _surroundings().services()


def request_id() -> str:
    """The id of the request being served ("-" outside one, e.g. in a command)."""
    return _surroundings().request_id()
