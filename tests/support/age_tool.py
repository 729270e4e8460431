"""The real `age` tool, as the reference the tests hold keys.age's files against."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from keys.age import identity_string

AGE = "/usr/bin/age"


def age_decrypt(
    tmp_path: Path, owner: X25519PrivateKey, data: bytes
) -> subprocess.CompletedProcess[bytes]:
    """Run `age -d` on data with owner's identity, both written to files in tmp_path."""
    (tmp_path / "identity").write_text(identity_string(owner) + "\n")
    (tmp_path / "file.age").write_bytes(data)
    return subprocess.run(
        [AGE, "-d", "-i", str(tmp_path / "identity"), str(tmp_path / "file.age")],
        capture_output=True,
    )
