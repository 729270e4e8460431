"""`peerlex verify` passes a genuine bundle and names what fails in a tampered one."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from clients.verify import verify_bundle
from tests.bundle_fixtures import Agreed

Files = dict[str, bytes]


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    assert handle is not None, member.name
    return handle.read()


def rewrite(bundle: Path, out: Path, change: Callable[[Files], None]) -> Path:
    """Unpack, change, repack (same order and metadata as the original)."""
    with tarfile.open(bundle) as tar:
        files = {m.name: _read(tar, m) for m in tar.getmembers() if m.isfile()}
    change(files)
    with tarfile.open(out, "w") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def flip(name: str, at: int = -40) -> Callable[[Files], None]:
    def change(files: Files) -> None:
        data = bytearray(files[name])
        data[at] ^= 0x01
        files[name] = bytes(data)

    return change


def failures(bundle: Path) -> list[str]:
    return [c.line() for c in verify_bundle(bundle) if not c.ok]


def test_genuine_bundle_passes_every_check(agreed: Agreed) -> None:
    checks = list(verify_bundle(agreed.bundle))
    assert checks
    assert all(c.ok for c in checks), [c.line() for c in checks if not c.ok]
    names = " ".join(c.name for c in checks)
    for expected in (
        "SHA256SUMS.sig",
        "approval",
        "repository repos/BLR.bundle",
        "commit BLR/export-law",
        "attachment",
        "document documents/KGZ",
    ):
        assert expected in names


R = "dushanbe-2017/"
CASES: list[tuple[str, Callable[[Files], None], str]] = [
    ("manifest", flip(R + "manifest.json", 30), "manifest.json"),
    ("document", flip(R + "documents/BLR/export-law.md", 5), "documents/BLR/export-law.md"),
    ("sums-line", flip(R + "SHA256SUMS", 3), "SHA256SUMS"),
    ("bundle-signature", flip(R + "SHA256SUMS.sig", 60), "SHA256SUMS.sig"),
    (
        "approval-signature",
        flip(R + "approvals/BLR/export-law.sig", 60),
        "approvals/BLR/export-law.sig",
    ),
    ("repository", flip(R + "repos/BLR.bundle", -30), "repos/BLR.bundle"),
    (
        "attachment",
        lambda f: f.__setitem__(
            next(n for n in f if n.endswith(".age")),
            f[next(n for n in f if n.endswith(".age"))][:-1] + b"\x00",
        ),
        ".age",
    ),
    (
        "removed",
        lambda f: f.__delitem__(R + "documents/KGZ/action-plan.md"),
        "documents/KGZ/action-plan.md",
    ),
    (
        "added",
        lambda f: f.__setitem__(R + "documents/BLR/extra.md", b"smuggled"),
        "documents/BLR/extra.md",
    ),
]


@pytest.mark.parametrize(("change", "named"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_any_change_fails_and_names_the_file(
    agreed: Agreed, tmp_path: Path, change: Callable[[Files], None], named: str
) -> None:
    tampered = rewrite(agreed.bundle, tmp_path / "tampered.tar", change)
    failed = failures(tampered)
    assert failed, "a tampered bundle verified"
    assert any(named in line for line in failed), failed


def test_cli_exit_status_and_verdict(agreed: Agreed, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from clients.cli import main

    good = CliRunner().invoke(main, ["verify", str(agreed.bundle)])
    assert good.exit_code == 0
    assert "VERIFIED" in good.output
    tampered = rewrite(agreed.bundle, tmp_path / "t.tar", flip(R + "manifest.json", 30))
    bad = CliRunner().invoke(main, ["verify", str(tampered)])
    assert bad.exit_code == 1
    assert "NOT VERIFIED" in bad.output


def test_trusted_signers_file_rejects_substituted_keys(agreed: Agreed, tmp_path: Path) -> None:
    """With a trusted allowed_signers file, a bundle re-signed by another key fails."""
    stranger = tmp_path / "stranger"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    trusted = tmp_path / "trusted"
    trusted.write_text("unrcpd@parties.peerlex " + (tmp_path / "stranger.pub").read_text())
    checks = list(verify_bundle(agreed.bundle, trusted))
    assert any(not c.ok and c.name == "SHA256SUMS.sig" for c in checks)
