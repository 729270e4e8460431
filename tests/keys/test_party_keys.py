"""Party keys are wrapped under the master key and bound to their party and key id."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from keys import sshsig
from keys.master import MasterKeyError, create_master_key, load_master_key
from keys.party_keys import KeyStore, KeyStoreError


def test_master_key_file_is_private_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    created = create_master_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_master_key(path, {}).derive("x") == created.derive("x")
    with pytest.raises(FileExistsError):
        create_master_key(path)


def test_master_key_from_environment_and_refusals(tmp_path: Path) -> None:
    secret = os.urandom(32)
    env = {"PEERLEX_MASTER_KEY": base64.b64encode(secret).decode()}
    assert load_master_key(tmp_path / "absent", env).derive("a") != b""
    with pytest.raises(MasterKeyError):
        load_master_key(tmp_path / "absent", {})
    with pytest.raises(MasterKeyError):
        load_master_key(tmp_path / "absent", {"PEERLEX_MASTER_KEY": "not base64!"})
    path = tmp_path / "open.key"
    path.write_bytes(secret)
    path.chmod(0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_master_key(path, {})


def test_keys_round_trip_and_never_stored_in_clear(keystore: KeyStore) -> None:
    keystore.create("BLR")
    keys = keystore.current("BLR")
    signature = keys.sign(b"hello", "git")
    verified = sshsig.verify(signature, b"hello", "git")
    assert verified.fingerprint == keystore.verifying_keys("BLR")[0].fingerprint
    stored = (keystore.directory / "BLR.json").read_text()
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    raw = keys.signing_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert base64.b64encode(raw).decode() not in stored


def test_wrapped_key_moved_to_another_party_does_not_unwrap(keystore: KeyStore) -> None:
    keystore.create("BLR")
    keystore.create("KGZ")
    blr = json.loads((keystore.directory / "BLR.json").read_text())
    kgz = json.loads((keystore.directory / "KGZ.json").read_text())
    kgz["keys"][0]["signing"]["wrapped"] = blr["keys"][0]["signing"]["wrapped"]
    (keystore.directory / "KGZ.json").write_text(json.dumps(kgz))
    with pytest.raises(KeyStoreError, match="does not unwrap"):
        keystore.current("KGZ")


def test_other_master_key_cannot_unwrap(tmp_path: Path, keystore: KeyStore) -> None:
    keystore.create("BLR")
    other = KeyStore(keystore.directory, create_master_key(tmp_path / "other.key"))
    with pytest.raises(KeyStoreError):
        other.current("BLR")


def test_rotation_keeps_old_verifier_with_valid_before(keystore: KeyStore) -> None:
    keystore.create("BLR")
    old, new = keystore.rotate("BLR")
    verifiers = keystore.verifying_keys("BLR")
    assert [v.key_id for v in verifiers] == [old.key_id, new.key_id]
    assert verifiers[0].valid_before is not None
    assert verifiers[1].valid_before is None
    assert keystore.current("BLR").key_id == new.key_id
