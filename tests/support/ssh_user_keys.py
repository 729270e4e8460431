"""Users' own SSH keys in tests: made and used by the real ssh-keygen, as a delegate would."""

from __future__ import annotations

import subprocess
from pathlib import Path

# A public key whose fingerprint holds both `/` and `+`, as a URL path must carry them.
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBu7d3Bu7BvsRDSdjvNuE7dej4Kpq7BK4iPf/hUTkVaJ table key"
)
FINGERPRINT = "SHA256:dMMAYENCwS5+DkC/eZQ+nE4tko9Ss+EtujDHr0ZF5tg"


def new_key(directory: Path, name: str, key_type: str = "ed25519", comment: str = "") -> Path:
    """A fresh key pair without a passphrase; answers the private key's path (`.pub` beside it)."""
    path = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def public_line(private: Path) -> str:
    return private.with_suffix(".pub").read_text().strip()


def fingerprint_of(private: Path) -> str:
    """The key's fingerprint as `ssh-keygen -lf` prints it."""
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(private.with_suffix(".pub"))],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[1]


def ssh_sign(private: Path, namespace: str, message: bytes) -> Path:
    """Sign message with `ssh-keygen -Y sign`; answers the signature file's path."""
    # One file per namespace: ssh-keygen does not overwrite a signature already there.
    data = private.with_name(f"{private.name}.{namespace}.msg")
    data.with_name(data.name + ".sig").unlink(missing_ok=True)
    data.write_bytes(message)
    subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(private), "-n", namespace, str(data)],
        check=True,
        capture_output=True,
    )
    return data.with_name(data.name + ".sig")
