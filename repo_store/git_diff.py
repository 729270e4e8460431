"""`git diff` of one document between two of its commits, exactly as git prints it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repo_store.documents import document_paths
from repo_store.names import check_sha, check_slug

# The id git gives the empty tree: the "before" of a document's first version.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def git_unified_diff(path: Path, slug: str, old: str | None, new: str) -> str:
    """The unified diff of the document's text in the repository at path (old None: from
    nothing)."""
    check_slug(slug)
    check_sha(new)
    text_path, _ = document_paths(slug)
    # Both ends are validated commit ids and the path is a validated slug: no user input
    # can become an option here.
    result = subprocess.run(
        [
            "git",
            f"--git-dir={path}",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--end-of-options",
            check_sha(old) if old else EMPTY_TREE,
            new,
            "--",
            text_path,
        ],
        capture_output=True,
        check=True,
    )
    return result.stdout.decode("utf-8", "replace")
