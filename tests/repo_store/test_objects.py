"""Trees and loose objects written in-process are git's own bytes, checked and made durable."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from repo_store import objects
from repo_store.commits import Identity, parse_commit
from repo_store.errors import UnknownVersion
from repo_store.objects import ObjectReader, object_id
from repo_store.refs import BackgroundCloser
from repo_store.store import RepoStore, git_blob_id

AUTHOR = Identity("Ivan Petrov", "ivan@blr.example")


def commit(store: RepoStore, files: dict[str, bytes]) -> str:
    """Commit files to document "a": its text, metadata and anything under attachments/a/."""
    return store.commit_files(
        "BLR", "a", files, author=AUTHOR, committer_name="Belarus", message="files"
    )


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", f"--git-dir={repo}", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return result.stdout


def test_trees_are_the_ones_git_writes(store: RepoStore, tmp_path: Path) -> None:
    # "a-b" < "a.md" < "a/" < "a0": a directory sorts as if its name ended in "/".
    commit(
        store,
        {
            "attachments/a/a.md": b"1\n",
            "attachments/a/a/x.md": b"2\n",
            "attachments/a/a0.md": b"3\n",
            "attachments/a/Ä.md": b"4\n",
        },
    )
    sha = commit(
        store,
        {"attachments/a/a-b.md": b"5\n", "attachments/a/a/x.md": b"6\n", "documents/a.md": b"7\n"},
    )
    repo = store.path("BLR")
    git(repo, "fsck", "--strict")
    # git's own index round trip rebuilds the same tree from the commit's contents.
    index = {"GIT_INDEX_FILE": str(tmp_path / "index")}
    git(repo, "read-tree", sha, env=index)
    assert git(repo, "write-tree", env=index).strip() == store.commit("BLR", sha).tree
    listing = git(repo, "-c", "core.quotePath=false", "ls-tree", "-r", "--name-only", sha)
    assert listing.split() == [
        "attachments/a/a-b.md",
        "attachments/a/a.md",
        "attachments/a/a/x.md",
        "attachments/a/a0.md",
        "attachments/a/Ä.md",
        "documents/a.md",
    ]


@pytest.mark.parametrize(
    "path", ["attachments/a/.git", "attachments/a/../x", "attachments/a//x", "attachments/a/.Git/x"]
)
def test_names_git_refuses_are_refused(store: RepoStore, path: str) -> None:
    before = commit(store, {"documents/a.md": b"ok\n"})
    with pytest.raises(ValueError, match="path|name"):
        commit(store, {path: b"x\n"})
    assert store.head("BLR", "a") == before


def test_object_found_on_disk_is_made_durable(
    store: RepoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit(store, {"documents/a.md": b"first\n"})
    # As a write that failed before its fsync would leave it: in place, maybe not durable.
    data = b"second\n"
    hexsha = git_blob_id(data).hex()
    leftover = store.path("BLR") / "objects" / hexsha[:2] / hexsha[2:]
    leftover.parent.mkdir(exist_ok=True)
    leftover.write_bytes(zlib.compress(b"blob %d\x00" % len(data) + data))
    synced: list[str] = []
    real_fsync_path = objects.fsync_path

    def recording(path: Path | str) -> None:
        synced.append(str(path))
        real_fsync_path(path)

    monkeypatch.setattr("repo_store.objects.fsync_path", recording)
    commit(store, {"documents/a.md": data})
    assert str(leftover) in synced
    assert str(leftover.parent) in synced


def test_temporary_file_of_a_crashed_writer_is_replaced(store: RepoStore) -> None:
    data = b"text\n"
    hexsha = git_blob_id(data).hex()
    directory = store.path("BLR") / "objects" / hexsha[:2]
    directory.mkdir(exist_ok=True)
    stale = directory / f"tmp_obj_{os.getpid()}_{threading.get_ident()}_{hexsha[:8]}"
    stale.write_bytes(b"half an object")
    stale.chmod(0o444)
    sha = commit(store, {"documents/a.md": data})
    assert git(store.path("BLR"), "cat-file", "blob", f"{sha}:documents/a.md") == "text\n"
    assert not stale.exists()


def test_a_write_on_top_of_the_last_reads_no_object(
    store: RepoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = store.put_document(
        "BLR",
        "law",
        "v1\n",
        {"title": "Law"},
        base=None,
        author=AUTHOR,
        committer_name="Belarus",
        message="v1",
    )
    store.put_document(
        "BLR", "law", "v2\n", {}, base=base, author=AUTHOR, committer_name="Belarus", message="v2"
    )
    reads: list[bytes] = []
    real_read = ObjectReader.read

    def counting(self: ObjectReader, binsha: bytes, expected_type: bytes) -> bytes:
        reads.append(binsha)
        return real_read(self, binsha, expected_type)

    monkeypatch.setattr(ObjectReader, "read", counting)
    for n in range(3, 6):
        base = store.current_version("BLR", "law") or ""
        store.put_document(
            "BLR",
            "law",
            f"v{n}\n",
            {},
            base=base,
            author=AUTHOR,
            committer_name="Belarus",
            message=f"v{n}",
        )
    assert reads == []
    assert store.read_document("BLR", "law").metadata == {"title": "Law"}


def test_metadata_is_kept_and_updated_across_edits(store: RepoStore) -> None:
    def put(text: str, metadata: dict[str, str | None], base: str | None) -> str:
        sha, _ = store.put_document(
            "BLR",
            "plan",
            text,
            metadata,
            base=base,
            author=AUTHOR,
            committer_name="Belarus",
            message="m",
        )
        return sha

    v1 = put("a\n", {"title": "Plan", "kind": "plan"}, None)
    v2 = put("b\n", {"kind": None}, v1)  # None leaves a field as it is
    v3 = put("b\n", {"title": "New plan"}, v2)
    assert v3 != v2  # a metadata change alone is a new version
    assert put("b\n", {}, v3) == v3  # nothing changed: no new version
    fresh = RepoStore(store.root, store.keys)
    assert fresh.read_document("BLR", "plan", v2).metadata == {"title": "Plan", "kind": "plan"}
    assert fresh.read_document("BLR", "plan").metadata == {"title": "New plan", "kind": "plan"}
    # Callers get their own dict: changing it changes nothing stored or cached.
    store.read_document("BLR", "plan").metadata["title"] = "scribbled"
    assert store.read_document("BLR", "plan").metadata["title"] == "New plan"


def test_object_id_is_gits() -> None:
    data = "Статья 1.\n".encode()
    blob = subprocess.run(
        ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
    )
    assert object_id(b"blob", data).hex() == blob.stdout.decode().strip()


def _closed(fd: int, inode: int) -> bool:
    try:
        return os.fstat(fd).st_ino != inode  # the number may already name another file
    except OSError:
        return True


def _wait_closed(fd: int, inode: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _closed(fd, inode):
            return True
        time.sleep(0.01)
    return False


def test_background_closer_closes(tmp_path: Path) -> None:
    closer = BackgroundCloser()
    path = tmp_path / "old-ref"
    path.write_text("x\n")
    fds = [os.open(path, os.O_RDONLY) for _ in range(3)]
    inode = os.fstat(fds[0]).st_ino
    for fd in fds:
        closer.close(fd)
    assert all(_wait_closed(fd, inode) for fd in fds)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_background_closer_works_in_a_forked_child(tmp_path: Path) -> None:
    closer = BackgroundCloser()
    path = tmp_path / "old-ref"
    path.write_text("x\n")
    closer.close(os.open(path, os.O_RDONLY))  # the parent's thread is running now
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        fd = os.open(path, os.O_RDONLY)
        inode = os.fstat(fd).st_ino
        closer.close(fd)
        os._exit(0 if _wait_closed(fd, inode) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_ref_moves_and_no_lock_file_is_left(store: RepoStore) -> None:
    first = commit(store, {"documents/a.md": b"1\n"})
    second = commit(store, {"documents/a.md": b"2\n"})
    ref = store.path("BLR") / "refs" / "documents" / "a"
    assert ref.read_text() == f"{second}\n"
    assert store.commit("BLR", second).parent == first
    assert not ref.with_name("a.lock").exists()


def test_threads_reading_a_new_reader_at_once_all_find_the_object(store: RepoStore) -> None:
    sha = bytes.fromhex(commit(store, {"documents/a.md": b"text\n"}))
    objects_dir = store.path("BLR") / "objects"
    missed = 0
    interval = sys.getswitchinterval()
    # Switching threads as often as possible makes them meet inside gitdb's first-use setup.
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(50):
            reader = ObjectReader(objects_dir)
            start = threading.Barrier(8)

            def read(reader: ObjectReader = reader, start: threading.Barrier = start) -> None:
                nonlocal missed
                start.wait()
                try:
                    reader.read(sha, b"commit")
                except UnknownVersion:
                    missed += 1

            threads = [threading.Thread(target=read) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert missed == 0


def test_objects_packed_after_the_reader_opened_are_still_found(store: RepoStore) -> None:
    first = commit(store, {"documents/a.md": b"one\n"})
    reader = store.reader("BLR")
    assert reader.has(bytes.fromhex(first))
    second = commit(store, {"documents/a.md": b"two\n"})
    git(store.path("BLR"), "repack", "-a", "-d", "-q")
    git(store.path("BLR"), "prune-packed")
    assert not list((store.path("BLR") / "objects").glob("??/*"))
    assert parse_commit(second, reader.read(bytes.fromhex(second), b"commit")).parent == first
