"""Git bundles of a party's history up to chosen commits, made without touching its repository."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from repo_store.names import check_sha, check_slug


def create_git_bundle(repo: Path, heads: Mapping[str, str], out: Path) -> None:
    """Write a git bundle holding the history of each commit, as refs/peerlex/approved/<slug>.

    The refs live in a throw-away repository that borrows the party's objects (alternates), so
    the party's own refs never change. One pack thread keeps the bytes reproducible.
    """
    with tempfile.TemporaryDirectory(prefix="peerlex-bundle-") as tmp:
        scratch = Path(tmp) / "scratch.git"
        subprocess.run(["git", "init", "--quiet", "--bare", str(scratch)], check=True)
        (scratch / "objects" / "info" / "alternates").write_text(f"{repo / 'objects'}\n")
        refs = []
        for slug, sha in sorted(heads.items()):
            ref = f"refs/peerlex/approved/{check_slug(slug)}"
            subprocess.run(
                ["git", f"--git-dir={scratch}", "update-ref", ref, check_sha(sha)], check=True
            )
            refs.append(ref)
        subprocess.run(
            [
                "git",
                f"--git-dir={scratch}",
                "-c",
                "pack.threads=1",
                "bundle",
                "create",
                "--quiet",
                str(out),
                *refs,
            ],
            check=True,
            capture_output=True,
        )
