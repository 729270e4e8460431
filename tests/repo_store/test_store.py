"""The store writes signed commits with plumbing that stock git verifies, and never loses one."""

from __future__ import annotations

import multiprocessing
import subprocess
import threading
import zlib
from pathlib import Path

import pytest

from keys.allowed_signers import AllowedSigner, render
from keys.master import load_master_key
from keys.party_keys import KeyStore
from keys.protocol import GIT_NAMESPACE
from keys.trusted_keys import server_keys
from repo_store.commits import Identity
from repo_store.errors import DocumentExists, LegacyLayout, StaleVersion, UnknownVersion
from repo_store.locking import document_lock
from repo_store.names import InvalidName
from repo_store.store import RepoStore

AUTHOR = Identity("Ivan Petrov", "ivan@blr.example")
LAW_V1 = """# Закон об экспортном контроле

Статья 1. Сфера применения

Настоящий Закон регулирует экспорт товаров двойного назначения.
"""


def put(store: RepoStore, content: str, base: str | None = None, slug: str = "export-law") -> str:
    sha, _ = store.put_document(
        "BLR",
        slug,
        content,
        {"title": "Закон", "kind": "law", "language": "ru"},
        base=base,
        author=AUTHOR,
        committer_name="Republic of Belarus",
        message="draft",
    )
    return sha


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def test_commit_verifies_with_stock_git(store: RepoStore, tmp_path: Path) -> None:
    sha = put(store, LAW_V1)
    signers = tmp_path / "allowed_signers"
    signers.write_text(
        render(AllowedSigner("BLR", k.public_key) for k in store.keys.verifying_keys("BLR"))
    )
    result = git(
        store.path("BLR"), "-c", f"gpg.ssh.allowedSignersFile={signers}", "verify-commit", sha
    )
    assert result.returncode == 0, result.stderr
    assert 'Good "git" signature' in result.stderr
    assert git(store.path("BLR"), "fsck", "--strict").returncode == 0
    assert store.verify_commit("BLR", sha).status == "good"
    log = git(store.path("BLR"), "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", sha).stdout
    assert log.startswith("Ivan Petrov <ivan@blr.example>|Republic of Belarus <blr@parties")
    assert "Peerlex-User: ivan@blr.example" in log
    assert "Peerlex-Party: BLR" in log


def test_no_index_or_work_tree_is_used(store: RepoStore) -> None:
    put(store, LAW_V1)
    assert not (store.path("BLR") / "index").exists()
    assert git(store.path("BLR"), "rev-parse", "--is-bare-repository").stdout.strip() == "true"


def test_altered_commit_message_reports_bad(store: RepoStore) -> None:
    sha = put(store, LAW_V1)
    path = store.path("BLR") / "objects" / sha[:2] / sha[2:]
    raw = zlib.decompress(path.read_bytes())
    at = raw.index(b"draft")
    tampered = raw[:at] + b"Draft" + raw[at + 5 :]
    path.chmod(0o644)
    path.write_bytes(zlib.compress(tampered))
    fresh = RepoStore(store.root, store.keys)
    assert fresh.verify_commit("BLR", sha).status == "bad"


def test_commit_signed_by_another_party_is_bad(store: RepoStore) -> None:
    sha = put(store, LAW_V1)
    trusted = server_keys(store.keys, "KGZ", (GIT_NAMESPACE,))
    assert store.verify_commit("BLR", sha, trusted).status == "bad"


def test_versions_reads_and_conflicts(store: RepoStore) -> None:
    v1 = put(store, LAW_V1)
    other = put(store, "Другой документ\n", slug="action-plan")
    v2 = put(store, LAW_V1 + "\nСтатья 2. Лицензии\n", base=v1)
    assert [v.sha for v in store.versions("BLR", "export-law")] == [v2, v1]
    assert store.versions("BLR", "action-plan")[0].sha == other
    assert store.read_document("BLR", "export-law", v1).content == LAW_V1
    # A commit of another document is no version of this one.
    with pytest.raises(UnknownVersion):
        store.read_document("BLR", "export-law", other)
    with pytest.raises(StaleVersion) as stale:
        put(store, "lost update?\n", base=v1)
    assert stale.value.head == v2
    with pytest.raises(DocumentExists):
        put(store, "overwrite blindly?\n")
    with pytest.raises(UnknownVersion):
        put(store, "x\n", base="0" * 40)
    with pytest.raises(InvalidName):
        put(store, "x\n", slug="../x")
    # Saving identical content is not a new version.
    assert put(store, LAW_V1 + "\nСтатья 2. Лицензии\n", base=v2) == v2
    assert [s.slug for s in store.list_documents("BLR")] == ["action-plan", "export-law"]


def test_each_document_has_a_history_of_its_own(store: RepoStore) -> None:
    v1 = put(store, LAW_V1)
    plan = put(store, "plan\n", slug="action-plan")
    v2 = put(store, LAW_V1 + "more\n", base=v1)
    # The other document's commit came in between, but is not in this document's history.
    assert store.commit("BLR", v2).parent == v1
    assert store.commit("BLR", plan).parent is None
    assert [info.sha for info in store.history("BLR", "export-law")] == [v2, v1]
    assert store.head("BLR", "export-law") == v2
    assert store.head("BLR", "action-plan") == plan
    assert store.head("BLR", "missing") is None
    assert store.slugs("BLR") == ["action-plan", "export-law"]


def test_a_signed_commit_discloses_its_own_document_only(store: RepoStore) -> None:
    put(store, "Секретный проект\n", slug="secret-plan")
    v1 = put(store, LAW_V1)
    # Every commit of the law's history, to its root, holds the law's files and nothing else.
    for info in store.history("BLR", "export-law"):
        files = git(store.path("BLR"), "ls-tree", "-r", "--name-only", info.sha).stdout.split()
        assert files == ["documents/export-law.json", "documents/export-law.md"]
    assert git(store.path("BLR"), "rev-list", v1).stdout.split() == [v1]


def test_a_document_writes_only_its_own_files(store: RepoStore) -> None:
    put(store, LAW_V1)
    head = store.head("BLR", "export-law")
    for path in ["documents/other.md", "attachments/other/x.json", "documents/export-law.mdx"]:
        with pytest.raises(ValueError, match="not a file of document"):
            store.commit_files(
                "BLR", "export-law", {path: b"x\n"}, author=AUTHOR, committer_name="B", message="m"
            )
    assert store.head("BLR", "export-law") == head


def test_writers_of_different_documents_do_not_wait_for_each_other(store: RepoStore) -> None:
    v1 = put(store, LAW_V1)
    put(store, "plan\n", slug="action-plan")
    written = threading.Event()

    def write_plan() -> None:
        put(store, "plan 2\n", slug="action-plan", base=store.head("BLR", "action-plan"))
        written.set()

    # While the law's lock is held (a writer mid-commit), the plan can still be written.
    with document_lock(store.path("BLR"), "export-law"):
        thread = threading.Thread(target=write_plan)
        thread.start()
        assert written.wait(timeout=30)
        thread.join()
    assert put(store, LAW_V1 + "more\n", base=v1) != v1


def test_a_repository_of_the_first_layout_is_refused(store: RepoStore) -> None:
    put(store, LAW_V1)
    # The first layout kept every document on refs/heads/main.
    head = store.head("BLR", "export-law")
    assert git(store.path("BLR"), "update-ref", "refs/heads/main", head or "").returncode == 0
    with pytest.raises(LegacyLayout, match="BLR"):
        store.check_layout()
    with pytest.raises(LegacyLayout):
        RepoStore(store.root, store.keys).read_document("BLR", "export-law")


def _racer(
    root: str,
    keys_dir: str,
    master_path: str,
    worker: int,
    rounds: int,
    results: multiprocessing.Queue[list[str]],
) -> None:
    keys = KeyStore(Path(keys_dir), load_master_key(Path(master_path), {}))
    store = RepoStore(Path(root), keys)
    acknowledged = []
    done = 0
    while done < rounds:
        base = store.current_version("BLR", "export-law")
        try:
            sha = put(store, f"{LAW_V1}\nworker {worker} round {done}\n", base=base)
        except StaleVersion:
            continue
        acknowledged.append(sha)
        done += 1
    results.put(acknowledged)


def test_racing_processes_lose_no_update(store: RepoStore, tmp_path: Path) -> None:
    first = put(store, LAW_V1)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[list[str]] = context.Queue()
    workers = [
        context.Process(
            target=_racer,
            args=(
                str(store.root),
                str(store.keys.directory),
                str(tmp_path / "master.key"),
                worker,
                25,
                results,
            ),
        )
        for worker in range(4)
    ]
    for process in workers:
        process.start()
    acknowledged = [sha for _ in workers for sha in results.get(timeout=120)]
    for process in workers:
        process.join(timeout=30)
        assert process.exitcode == 0
    history = [info.sha for info in RepoStore(store.root, store.keys).history("BLR", "export-law")]
    assert len(acknowledged) == 100
    assert sorted(history) == sorted([*acknowledged, first])  # each exactly once, nothing else
    assert len(set(history)) == len(history) == 101
    assert git(store.path("BLR"), "fsck", "--strict").returncode == 0
