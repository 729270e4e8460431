"""A party's repository in a bundle: its loose objects checked in-process, then copied into a
fresh repository that the verifier makes, where git runs with no configuration but our own.

git never runs in, or on, anything the bundle shipped: the bundle's HEAD, config and refs are
only compared with what they must be, and the objects are copied once their names match their
content.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR
from typing import IO

from keys.bundle_format import APPROVED_REFS, REPOSITORY_CONFIG

OBJECT_FILE = re.compile(r"objects/([0-9a-f]{2})/([0-9a-f]{38})")
_HEADER = re.compile(rb"(blob|tree|commit|tag) (0|[1-9][0-9]{0,11})")
_IDENT = re.compile(rb"committer .* <([^<>]*)> [0-9]+ [+-][0-9]{4}")
_GOOD = re.compile(r'Good "git" signature for (\S+) with (\S+) key (SHA256:\S+)')
GITLINK_MODE = 0o160000


class RepositoryError(Exception):
    """A repository in the bundle is not the one the manifest describes."""


@dataclass
class GitObject:
    kind: bytes
    size: int
    data: bytes | None  # commits and trees only: blobs are never held in memory


class Budget:
    """How many inflated bytes the bundle's objects may still take (decompression bombs), and
    how many of them, commits and trees, may be held in memory."""

    def __init__(self, total: int, per_object: int, held: int) -> None:
        self.left = total
        self.per_object = per_object
        self.held_left = held


def _inflate(handle: IO[bytes]) -> Iterator[bytes]:
    """The inflated bytes of a zlib stream, 64 KiB at a time whatever the ratio."""
    inflater = zlib.decompressobj()
    for block in iter(lambda: handle.read(1 << 16), b""):
        pending = block
        while True:
            chunk = inflater.decompress(pending, 1 << 16)
            pending = inflater.unconsumed_tail
            if chunk:
                yield chunk
            elif not pending or inflater.eof:
                break  # this block is used up and nothing is held back
    if not inflater.eof or inflater.unused_data:
        raise RepositoryError("truncated or followed by other data")


def read_object(path: Path, budget: Budget) -> GitObject:
    """Inflate one loose object in bounded steps; check its name is the sha1 of its content."""
    expected = path.parent.name + path.name
    digest = hashlib.sha1(usedforsecurity=False)  # git names objects by SHA-1
    header = b""
    kind, size, seen = b"", -1, 0
    data = bytearray()
    try:
        with path.open("rb") as handle:
            for chunk in _inflate(handle):
                if size < 0:
                    header += chunk
                    if b"\x00" not in header[:33]:
                        if len(header) > 32:
                            raise RepositoryError("no object header")
                        continue
                    head, _, chunk = header.partition(b"\x00")
                    match = _HEADER.fullmatch(head)
                    if match is None:
                        raise RepositoryError("a malformed object header")
                    kind, size = match.group(1), int(match.group(2))
                    held = size if kind != b"blob" else 0
                    if size > budget.per_object or size > budget.left or held > budget.held_left:
                        raise RepositoryError(f"too large ({size} bytes)")
                    budget.left -= size
                    budget.held_left -= held
                    digest.update(head + b"\x00")
                seen += len(chunk)
                if seen > size:
                    raise RepositoryError("longer than its header says")
                digest.update(chunk)
                if kind != b"blob":
                    data += chunk
    except zlib.error as exc:
        raise RepositoryError(f"objects/{expected[:2]}/{expected[2:]}: not zlib data") from exc
    except RepositoryError as exc:
        raise RepositoryError(f"objects/{expected[:2]}/{expected[2:]}: {exc}") from exc
    if size < 0 or seen != size:
        raise RepositoryError(f"objects/{expected[:2]}/{expected[2:]}: shorter than its header")
    if digest.hexdigest() != expected:
        raise RepositoryError(
            f"objects/{expected[:2]}/{expected[2:]} is not the object of that name"
        )
    return GitObject(kind, size, bytes(data) if kind != b"blob" else None)


def commit_fields(data: bytes) -> tuple[str, str]:
    """(tree, committer e-mail) of a commit."""
    head = data.split(b"\n\n", 1)[0].split(b"\n")
    if not head[0].startswith(b"tree "):
        raise RepositoryError("a commit whose first line does not name its tree")
    committer = next((m for m in map(_IDENT.fullmatch, head) if m), None)
    if committer is None:
        raise RepositoryError("a commit without a committer")
    return head[0][5:].decode("ascii"), committer.group(1).decode("utf-8", "replace")


def tree_entries(data: bytes) -> list[tuple[str, str, int]]:
    """(name, sha, mode) of each entry of a tree: `<octal mode> <name>NUL<20-byte id>`."""
    entries, at = [], 0
    while at < len(data):
        space, nul = data.find(b" ", at), data.find(b"\x00", at)
        if space < 0 or nul < space or nul + 21 > len(data):
            raise RepositoryError("a malformed tree")
        mode, name = data[at:space], data[space + 1 : nul]
        if not re.fullmatch(rb"[0-7]{5,6}", mode) or not name or b"/" in name:
            raise RepositoryError("a malformed tree entry")
        entries.append(
            (name.decode("utf-8", "surrogateescape"), data[nul + 1 : nul + 21].hex(), int(mode, 8))
        )
        at = nul + 21
    return entries


@dataclass
class Repository:
    """A bundle's repository after its objects were checked: what it holds and where."""

    objects: dict[str, GitObject]
    files: dict[str, Path]  # object sha -> the checked loose file in the verifier's folder

    def path_in(self, commit: str, path: str) -> tuple[str, int] | None:
        """(sha, mode) at a slash-separated path in a commit's tree."""
        tree, _ = commit_fields(self._data(commit, b"commit"))
        *dirs, last = path.split("/")
        for part in dirs:
            found = self._entry(tree, part)
            if found is None or not S_ISDIR(found[1]):
                return None
            tree = found[0]
        return self._entry(tree, last)

    def _entry(self, tree: str, name: str) -> tuple[str, int] | None:
        for entry_name, sha, mode in tree_entries(self._data(tree, b"tree")):
            if entry_name == name:
                return sha, mode
        return None

    def _data(self, sha: str, kind: bytes) -> bytes:
        obj = self.objects.get(sha)
        if obj is None or obj.kind != kind or obj.data is None:
            raise RepositoryError(f"{sha} is not a {kind.decode()} of this repository")
        return obj.data

    def reachable(self, commits: set[str]) -> set[str]:
        """Every object the commits name, their trees and blobs; parents are not followed."""
        seen: set[str] = set()
        pending = [(c, b"commit") for c in sorted(commits)]
        while pending:
            sha, kind = pending.pop()
            if sha in seen:
                continue
            seen.add(sha)
            if kind == b"commit":
                pending.append((commit_fields(self._data(sha, b"commit"))[0], b"tree"))
            elif kind == b"tree":
                for _name, entry, mode in tree_entries(self._data(sha, b"tree")):
                    if mode == GITLINK_MODE:
                        raise RepositoryError("a tree names a submodule")
                    pending.append((entry, b"tree" if S_ISDIR(mode) else b"blob"))
            elif sha not in self.objects or self.objects[sha].kind != b"blob":
                raise RepositoryError(f"{sha} is not a blob of this repository")
        return seen


def expected_files(commits: dict[str, str]) -> dict[str, bytes]:
    """The files besides objects a bundle repository holds, and their exact bytes."""
    slugs = sorted(commits)
    files = {
        "HEAD": f"{commits[slugs[0]]}\n".encode(),
        "config": REPOSITORY_CONFIG,
        "shallow": "".join(f"{c}\n" for c in sorted(set(commits.values()))).encode(),
    }
    for slug in slugs:
        files[f"{APPROVED_REFS}{slug}"] = f"{commits[slug]}\n".encode()
    return files


def fresh_repository(at: Path, repository: Repository, commits: dict[str, str]) -> Path:
    """Make a bare repository of our own holding the checked objects and the manifest's refs."""
    for name, data in expected_files(commits).items():
        target = at / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for sha, source in repository.files.items():
        target = at / "objects" / sha[:2] / sha[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return at


class Git:
    """git with no system, global or repository configuration of anyone else, and no hooks."""

    def __init__(self, home: Path, allowed_signers: Path) -> None:
        ssh_keygen = shutil.which("ssh-keygen")
        git = shutil.which("git")
        if ssh_keygen is None or git is None:
            raise RepositoryError("git and OpenSSH's ssh-keygen are needed to check commits")
        self.git = os.path.abspath(git)
        self.home = home
        self.options = [
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            f"gpg.ssh.program={os.path.abspath(ssh_keygen)}",
            "-c",
            f"gpg.ssh.allowedSignersFile={allowed_signers}",
        ]
        self.env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }

    def run(self, repository: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (fixed program, arguments checked by the caller)
            [self.git, *self.options, f"--git-dir={repository}", *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
            timeout=600,
        )

    def verify_commit(self, repository: Path, commit: str) -> tuple[str, str] | str:
        """(principal, fingerprint) of a good signature, or git's complaint."""
        result = self.run(repository, "verify-commit", commit)
        found = _GOOD.search(result.stderr)
        if result.returncode != 0 or found is None:
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            return lines[-1] if lines else f"git verify-commit exited {result.returncode}"
        return found.group(1), found.group(3)

    def fsck(self, repository: Path) -> str | None:
        """None when `git fsck --strict` finds nothing wrong, else its first complaint."""
        result = self.run(repository, "fsck", "--strict", "--no-dangling", "--no-progress")
        if result.returncode == 0:
            return None
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        return lines[0] if lines else f"git fsck exited {result.returncode}"


def object_files(names: Iterator[str]) -> dict[str, str]:
    """sha -> relative name, for the names that are loose objects."""
    found = {}
    for name in names:
        match = OBJECT_FILE.fullmatch(name)
        if match:
            found[match.group(1) + match.group(2)] = name
    return found
