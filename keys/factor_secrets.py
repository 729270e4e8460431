"""Second-factor secrets at rest: each TOTP secret wrapped (AES-256-GCM) under a key derived
from the master key, bound to the user it belongs to, so a copy of the database holds none."""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.master import MasterKey

WRAP_PURPOSE = "peerlex second factors v1"
NONCE_BYTES = 12


class FactorSecretError(Exception):
    """A wrapped secret does not unwrap: damaged, another user's, or another master key's."""


class FactorSecrets:
    """Wraps and unwraps users' TOTP secrets under the deployment's master key."""

    def __init__(self, master: MasterKey) -> None:
        self._aead = AESGCM(master.derive(WRAP_PURPOSE))

    @staticmethod
    def _aad(user_id: int) -> bytes:
        # A wrapped secret copied onto another user's row does not unwrap there.
        return f"peerlex-totp|{user_id}".encode()

    def wrap_for_user(self, user_id: int, secret: bytes) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret, self._aad(user_id))
        return base64.b64encode(nonce + sealed).decode()

    def unwrap_for_user(self, user_id: int, wrapped: str) -> bytes:
        try:
            blob = base64.b64decode(wrapped, validate=True)
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad(user_id))
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise FactorSecretError(f"the second factor of user {user_id} does not unwrap") from exc
