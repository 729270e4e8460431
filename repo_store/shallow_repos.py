"""A shallow bare repository holding exactly the chosen commits, their trees and their blobs.

The final bundle carries one per party (docs/bundle.md). It is made as a set of files, loose
objects compressed as git writes them, without running git and without touching the party's
own repository: the same commits always give the same bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from stat import S_ISDIR

from keys.bundle_format import APPROVED_REFS, REPOSITORY_CONFIG
from repo_store.names import check_sha, check_slug
from repo_store.objects import ObjectReader

# git's own level for loose objects (core.looseCompression defaults to best speed).
LOOSE_COMPRESSION = 1
GITLINK_MODE = 0o160000


def _tree_id(commit: bytes) -> bytes:
    """The tree a commit names on its first line (git always writes it there)."""
    first = commit.split(b"\n", 1)[0]
    kind, _, value = first.partition(b" ")
    if kind != b"tree":
        raise ValueError("a commit whose first line does not name its tree")
    return bytes.fromhex(check_sha(value.decode("ascii")))


def _collect_tree(
    reader: ObjectReader, binsha: bytes, objects: dict[bytes, tuple[bytes, bytes]]
) -> None:
    if binsha in objects:
        return
    objects[binsha] = (b"tree", reader.read(binsha, b"tree"))
    for sha, mode in reader.tree(binsha).values():
        if S_ISDIR(mode):
            _collect_tree(reader, sha, objects)
        elif mode == GITLINK_MODE:
            raise ValueError("a tree names a submodule, which a bundle cannot carry")
        elif sha not in objects:
            objects[sha] = (b"blob", reader.read(sha, b"blob"))


def loose_object(kind: bytes, data: bytes) -> bytes:
    """The bytes of a loose object file: zlib of the header and the content."""
    return zlib.compress(b"%s %d\x00%s" % (kind, len(data), data), LOOSE_COMPRESSION)


def approved_repository(reader: ObjectReader, heads: Mapping[str, str]) -> dict[str, bytes]:
    """The files of a bare repository, path -> bytes, whose refs/peerlex/approved/<slug> is
    each slug's commit and which holds those commits, their trees and blobs, nothing more.

    Parents are left out; the `shallow` file lists every commit so that git does not look for
    them.
    """
    if not heads:
        raise ValueError("a repository of no commits")
    objects: dict[bytes, tuple[bytes, bytes]] = {}
    for sha in sorted(set(heads.values())):
        binsha = bytes.fromhex(check_sha(sha))
        commit = reader.read(binsha, b"commit")
        objects[binsha] = (b"commit", commit)
        _collect_tree(reader, _tree_id(commit), objects)
    slugs = sorted(check_slug(slug) for slug in heads)
    files = {
        "HEAD": f"{heads[slugs[0]]}\n".encode(),  # detached: fsck wants heads under refs/heads
        "config": REPOSITORY_CONFIG,
        "shallow": "".join(f"{sha}\n" for sha in sorted(set(heads.values()))).encode(),
    }
    for slug in slugs:
        files[f"{APPROVED_REFS}{slug}"] = f"{heads[slug]}\n".encode()
    for binsha, (kind, data) in objects.items():
        hexsha = binsha.hex()
        files[f"objects/{hexsha[:2]}/{hexsha[2:]}"] = loose_object(kind, data)
    return dict(sorted(files.items()))
