"""A search of a whole data directory for any party's private key material, as a thief with the
disk, the master key and the database would search it.

It unwraps every wrapped key in DATA/keys/*.json with the master key (the wrapping of
docs/formats.md, done again here rather than through the key store), and looks for OpenSSH or
PEM private keys and age identities in every file (git objects inflated, packed ones read
through git) and in every text or binary column of every table.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import MetaData, create_engine, select

from keys.master import MasterKey
from keys.party_keys import WRAP_PURPOSE

# What a private key looks like written out: OpenSSH and PEM armour, and age's identities
# (Bech32, so either case).
SECRET_TEXT = re.compile(
    rb"-----BEGIN (?:OPENSSH |RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----|AGE-SECRET-KEY-1",
    re.IGNORECASE,
)


def wrapped_keys(keys_dir: Path, master: MasterKey, party: str | None = None) -> Iterator[str]:
    """Every wrapped private key in the key files (of party only, if given) that unwraps."""
    aead = AESGCM(master.derive(WRAP_PURPOSE))
    for path in sorted(keys_dir.glob("*.json")):
        data = json.loads(path.read_text())
        code = data.get("party", path.stem)
        if party is not None and code != party:
            continue
        for entry in data.get("keys", []):
            for purpose in ("signing", "encryption"):
                wrapped = entry.get(purpose, {}).get("wrapped")
                if wrapped is None:
                    continue
                raw = base64.b64decode(wrapped)
                aad = f"peerlex-key|{code}|{entry['id']}|{purpose}".encode()
                try:
                    aead.decrypt(raw[:12], raw[12:], aad)
                except InvalidTag:
                    yield f"{path.name}: a wrapped {purpose} key {entry['id']} that does not unwrap"
                    continue
                yield f"{path.name}: the {purpose} key {entry['id']} of {code} unwraps"


def _texts_of_file(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    yield data
    # Loose git objects are zlib streams: what they hold is searched inflated.
    if "objects" in path.parts:
        try:
            yield zlib.decompress(data)
        except zlib.error:
            pass


def _git_objects(repo: Path) -> bytes:
    """Every object of a bare repository, packed or loose, as `git cat-file` gives it."""
    return subprocess.run(
        ["git", f"--git-dir={repo}", "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout


def secret_files(data_dir: Path) -> Iterator[str]:
    """Every file (and git repository) in data_dir that holds private key text."""
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        if any(SECRET_TEXT.search(text) for text in _texts_of_file(path)):
            yield str(path.relative_to(data_dir))
    for head in sorted(data_dir.rglob("HEAD")):
        repo = head.parent
        if (repo / "objects").is_dir() and SECRET_TEXT.search(_git_objects(repo)):
            yield f"{repo.relative_to(data_dir)}: a git object"


def secret_rows(database_url: str) -> Iterator[str]:
    """Every text or binary value of every table that holds private key text."""
    engine = create_engine(database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    for column, value in row._mapping.items():
                        raw = value.encode() if isinstance(value, str) else value
                        if isinstance(raw, bytes | memoryview) and SECRET_TEXT.search(bytes(raw)):
                            yield f"table {table.name}, column {column}"
    finally:
        engine.dispose()


def private_key_material(
    data_dir: Path, master: MasterKey, database_url: str, party: str | None = None
) -> list[str]:
    """Everything found, one line each; empty when no private key is anywhere to be had.

    Wrapped keys are looked at for party alone when it is given; key text is searched for
    everywhere, since a written-out private key names no party.
    """
    return [
        *wrapped_keys(data_dir / "keys", master, party),
        *secret_files(data_dir),
        *secret_rows(database_url),
    ]
