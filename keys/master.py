"""The deployment's master key: made once, kept in DATA/master.key (0600) or the environment."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_BYTES = 32
ENV_VAR = "PEERLEX_MASTER_KEY"


class MasterKeyError(Exception):
    """The master key is missing, malformed or not protected."""


class MasterKey:
    """32 secret bytes from which every other deployment secret is derived by purpose."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != MASTER_KEY_BYTES:
            raise MasterKeyError(f"the master key must be {MASTER_KEY_BYTES} bytes")
        self._secret = secret

    def derive(self, purpose: str, length: int = 32) -> bytes:
        """Derive an independent key for one purpose, so no two uses share key material."""
        return HKDF(
            algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode()
        ).derive(self._secret)

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return "MasterKey(<secret>)"


def create_master_key(path: Path) -> MasterKey:
    """Write a new random master key to path with mode 0600; refuse to overwrite one."""
    secret = secrets.token_bytes(MASTER_KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    return MasterKey(secret)


def load_master_key(path: Path, environ: dict[str, str] | None = None) -> MasterKey:
    """Load the master key from PEERLEX_MASTER_KEY (base64) or else from path."""
    env = os.environ if environ is None else environ
    encoded = env.get(ENV_VAR)
    if encoded:
        try:
            return MasterKey(base64.b64decode(encoded, validate=True))
        except binascii.Error as exc:
            raise MasterKeyError(f"{ENV_VAR} is not base64") from exc
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise MasterKeyError(
            f"no master key at {path}: run `peerlex-server init` or set {ENV_VAR}"
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyError(f"{path} is readable by others; chmod 600 it")
    return MasterKey(path.read_bytes())
