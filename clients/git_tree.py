"""git's object ids for blobs and trees, computed from a listing of files, without git."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

FILE_MODE = b"100644"
TREE_MODE = b"40000"


def blob_id(data: bytes) -> str:
    """The id git gives a blob with these bytes."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


def tree_id(files: Mapping[str, str]) -> str:
    """The id of the tree holding exactly these files (slash-separated path: blob id), each a
    regular file, with every directory between."""
    children: dict[str, dict[str, str]] = {}
    entries: dict[str, tuple[bytes, bytes]] = {}
    for path, sha in files.items():
        name, slash, rest = path.partition("/")
        if not name or name in (".", "..") or (slash and not rest):
            raise ValueError(f"not a file path: {path!r}")
        if slash:
            children.setdefault(name, {})[rest] = sha
        else:
            entries[name] = (FILE_MODE, bytes.fromhex(sha))
    for name, below in children.items():
        if name in entries:
            raise ValueError(f"{name!r} is both a file and a directory")
        entries[name] = (TREE_MODE, bytes.fromhex(tree_id(below)))
    # git orders entries by name, comparing a directory as if its name ended in "/".
    ordered = sorted(
        entries.items(), key=lambda item: item[0] + ("/" if item[1][0] == TREE_MODE else "")
    )
    body = b"".join(mode + b" " + name.encode() + b"\x00" + sha for name, (mode, sha) in ordered)
    return hashlib.sha1(b"tree %d\x00" % len(body) + body, usedforsecurity=False).hexdigest()
