"""Each party's keys: Ed25519 for signing, X25519 for attachments, wrapped under the master key.

Stored in DATA/keys/<PARTY>.json. Private halves are wrapped with AES-256-GCM under a key derived
from the master key; the associated data binds the party code, key id and purpose, so a wrapped
key copied into another party's file or slot fails to unwrap. A party that takes custody of its
own keys keeps a file of public halves only, marked retired_at.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from keys import sshsig
from keys.files import replaced_whole
from keys.master import MasterKey

WRAP_PURPOSE = "peerlex key wrapping v1"


class KeyStoreError(Exception):
    """A party has no keys, or its key file does not unwrap."""


@dataclass(frozen=True)
class VerifyingKey:
    """A party's public signing key and the time after which it no longer signs."""

    key_id: str
    public_key: Ed25519PublicKey
    created_at: datetime
    valid_before: datetime | None

    @property
    def fingerprint(self) -> str:
        return sshsig.fingerprint(self.public_key)


@dataclass(frozen=True)
class PartyKeys:
    """A party's current private keys, unwrapped for one operation."""

    party: str
    key_id: str
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey

    def sign(self, message: bytes, namespace: str) -> str:
        """Sign message as this party in an SSHSIG namespace."""
        return sshsig.sign(self.signing_key, message, namespace)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class KeyStore:
    """Creates, loads and rotates party keys under DATA/keys/."""

    def __init__(self, directory: Path, master: MasterKey) -> None:
        self.directory = directory
        self._aead = AESGCM(master.derive(WRAP_PURPOSE))
        self._lock = threading.Lock()
        self._current: dict[str, tuple[tuple[int, int, int], PartyKeys]] = {}

    def _path(self, party: str) -> Path:
        return self.directory / f"{party}.json"

    def _aad(self, party: str, key_id: str, purpose: str) -> bytes:
        return f"peerlex-key|{party}|{key_id}|{purpose}".encode()

    def _wrap(self, party: str, key_id: str, purpose: str, raw: bytes) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, raw, self._aad(party, key_id, purpose))
        return base64.b64encode(nonce + sealed).decode()

    def _unwrap(self, party: str, key_id: str, purpose: str, wrapped: str) -> bytes:
        blob = base64.b64decode(wrapped)
        try:
            return self._aead.decrypt(blob[:12], blob[12:], self._aad(party, key_id, purpose))
        except InvalidTag as exc:
            raise KeyStoreError(f"the {purpose} key {key_id} of {party} does not unwrap") from exc

    def _load(self, party: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._path(party).read_text())
        except FileNotFoundError as exc:
            raise KeyStoreError(f"party {party} has no keys") from exc
        return data

    def _save(self, party: str, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with replaced_whole(self._path(party)) as handle:
            handle.write(json.dumps(data, indent=2, sort_keys=True).encode())

    def _new_entry(self, party: str) -> dict[str, Any]:
        key_id = "k" + secrets.token_hex(6)
        signing = Ed25519PrivateKey.generate()
        encryption = X25519PrivateKey.generate()
        raw_signing = signing.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        raw_encryption = encryption.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {
            "id": key_id,
            "created_at": _now().isoformat(),
            "valid_before": None,
            "signing": {
                "public": sshsig.public_key_line(signing.public_key()),
                "wrapped": self._wrap(party, key_id, "signing", raw_signing),
            },
            "encryption": {
                "public": base64.b64encode(
                    encryption.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
                ).decode(),
                "wrapped": self._wrap(party, key_id, "encryption", raw_encryption),
            },
        }

    def has_keys(self, party: str) -> bool:
        return self._path(party).exists()

    def create(self, party: str) -> VerifyingKey:
        """Make a party's first keys; refuse if it has some already."""
        if self.has_keys(party):
            raise KeyStoreError(f"party {party} already has keys")
        entry = self._new_entry(party)
        self._save(party, {"party": party, "keys": [entry]})
        return self._verifying_key(entry)

    def rotate(self, party: str) -> tuple[PartyKeys, PartyKeys]:
        """Make new current keys; the old signing key stays as a verifier until now."""
        data = self._private(party)
        old = self._unwrapped(party, data["keys"][-1])
        data["keys"][-1]["valid_before"] = _now().isoformat()
        entry = self._new_entry(party)
        data["keys"].append(entry)
        self._save(party, data)
        return old, self._unwrapped(party, entry)

    def retire(self, party: str) -> datetime:
        """Destroy the party's private keys for good; answer when they stopped signing.

        What stays is what verifies the past: each key's public halves, created_at and
        valid_before (now, for a key that had none), so that every commit and approval the
        party signed before still verifies. current() and all_private() refuse from now on.
        """
        data = self._private(party)
        retired = datetime.now(UTC)
        # A time with a fraction of a second is published rounded up to the next second (as
        # allowed_signers and the trusted keys both read it), so a signature made earlier in
        # the same second still counts.
        retired = retired.replace(microsecond=retired.microsecond or 1)
        for entry in data["keys"]:
            if entry.get("valid_before") is None:
                entry["valid_before"] = retired.isoformat()
            for purpose in ("signing", "encryption"):
                entry[purpose].pop("wrapped", None)
        data["retired_at"] = retired.isoformat()
        self._save(party, data)
        with self._lock:
            self._current.pop(party, None)
        return retired

    def is_retired(self, party: str) -> bool:
        """Whether the party's private keys were destroyed (it holds its own now)."""
        return self.has_keys(party) and "retired_at" in self._load(party)

    def _private(self, party: str) -> dict[str, Any]:
        """The party's key file, refused when its private halves are gone."""
        data = self._load(party)
        if "retired_at" in data:
            raise KeyStoreError(
                f"the server holds no private key of {party}: they were destroyed on "
                f"{data['retired_at']}, when {party} took custody of its own keys"
            )
        return data

    def _unwrapped(self, party: str, entry: dict[str, Any]) -> PartyKeys:
        key_id = entry["id"]
        return PartyKeys(
            party=party,
            key_id=key_id,
            signing_key=Ed25519PrivateKey.from_private_bytes(
                self._unwrap(party, key_id, "signing", entry["signing"]["wrapped"])
            ),
            encryption_key=X25519PrivateKey.from_private_bytes(
                self._unwrap(party, key_id, "encryption", entry["encryption"]["wrapped"])
            ),
        )

    def current(self, party: str) -> PartyKeys:
        """The party's current keys, unwrapped once per version of its key file.

        The cache is keyed by the file's identity and modification time, so a rotation made by
        another process is seen at the next call.
        """
        try:
            stat = self._path(party).stat()
        except FileNotFoundError as exc:
            raise KeyStoreError(f"party {party} has no keys") from exc
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._current.get(party)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        keys = self._unwrapped(party, self._private(party)["keys"][-1])
        with self._lock:
            self._current[party] = (stamp, keys)
        return keys

    def all_private(self, party: str) -> list[PartyKeys]:
        """Unwrap every key the party ever had, newest last (old attachments need old keys)."""
        return [self._unwrapped(party, entry) for entry in self._private(party)["keys"]]

    @staticmethod
    def _verifying_key(entry: dict[str, Any]) -> VerifyingKey:
        valid_before = entry.get("valid_before")
        return VerifyingKey(
            key_id=entry["id"],
            public_key=sshsig.parse_public_key_line(entry["signing"]["public"]),
            created_at=datetime.fromisoformat(entry["created_at"]),
            valid_before=datetime.fromisoformat(valid_before) if valid_before else None,
        )

    def verifying_keys(self, party: str) -> list[VerifyingKey]:
        """Every signing key the party has had, current last."""
        return [self._verifying_key(entry) for entry in self._load(party)["keys"]]

    def encryption_public_key(self, party: str) -> X25519PublicKey:
        """The party's current X25519 public key (attachments are encrypted to it)."""
        raw = base64.b64decode(self._load(party)["keys"][-1]["encryption"]["public"])
        return X25519PublicKey.from_public_bytes(raw)

    def parties(self) -> Iterator[str]:
        """Codes of every party with keys, sorted."""
        if not self.directory.exists():
            return iter(())
        return iter(sorted(p.stem for p in self.directory.glob("*.json")))
