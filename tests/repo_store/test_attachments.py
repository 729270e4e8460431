"""Attachment pointer files: safe names, canonical JSON, signed commits, blob-first ordering."""

from __future__ import annotations

import io
import json
import os
import subprocess
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.age import NoIdentityMatched, identity_string
from repo_store.attachments import (
    AttachmentConflict,
    AttachmentRecord,
    InvalidAttachment,
    attachment_path,
    get_attachment,
    list_attachments,
    new_attachment_record,
    parse_media_type,
    record_attachment,
    safe_file_name,
    update_recipients,
    upload_attachment,
)
from repo_store.blobs import BlobStore, BlobTooLarge
from repo_store.commits import Identity
from repo_store.errors import DocumentNotFound
from repo_store.names import InvalidName
from repo_store.store import RepoStore

AGE = "/usr/bin/age"
AUTHOR = Identity("Ivan Petrov", "ivan@blr.example")
COMMITTER = "Republic of Belarus"
SLUG = "export-law"
WHEN = datetime(2017, 6, 6, 9, 30, 0, 123456, tzinfo=UTC)
SHA_A = "a" * 64


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def put_document(store: RepoStore, slug: str = SLUG) -> str:
    sha, _ = store.put_document(
        "BLR",
        slug,
        "# Закон об экспортном контроле\n\nСтатья 1.\n",
        {"title": "Закон", "kind": "law", "language": "ru"},
        base=None,
        author=AUTHOR,
        committer_name=COMMITTER,
        message="first draft",
    )
    return sha


def record(**changes: object) -> AttachmentRecord:
    fields: dict[str, object] = {
        "id": "0123456789abcdef",
        "name": "Control list.pdf",
        "media_type": "application/pdf",
        "size": 12,
        "sha256": SHA_A,
        "recipients": ("BLR",),
        "created_at": WHEN,
        "uploaded_by": "ivan@blr.example",
    }
    fields.update(changes)
    return AttachmentRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def blob_files(blobs: BlobStore) -> list[Path]:
    if not blobs.root.exists():
        return []
    return sorted(p for p in blobs.root.rglob("*") if p.is_file())


def upload(
    store: RepoStore, blobs: BlobStore, data: bytes, name: str = "list.pdf"
) -> tuple[AttachmentRecord, str]:
    return upload_attachment(
        store,
        blobs,
        "BLR",
        SLUG,
        io.BytesIO(data),
        name=name,
        media_type="application/pdf",
        recipients={"BLR": store.keys.encryption_public_key("BLR")},
        max_bytes=1 << 20,
        author=AUTHOR,
        committer_name=COMMITTER,
        message="attach the control list",
    )


# -- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("Закон об экспортном контроле.docx", "Закон об экспортном контроле.docx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\ivan\\Desktop\\law.txt", "law.txt"),
        ("/abs/path/", "attachment"),
        ("..", "attachment"),
        (".", "attachment"),
        ("", "attachment"),
        ("   ", "attachment"),
        ("\x00\x01\x7f", "attachment"),
        (".git", "git"),
        ("...hidden...", "hidden"),
        ("a\x00b.txt", "ab.txt"),
        ("name\twith\n\r spaces .txt", "name with spaces .txt"),
        ("  padded  ", "padded"),
        ("report\u202egpj.exe", "reportgpj.exe"),  # right-to-left override
        ("\u2066isolate\u2069.pdf", "isolate.pdf"),
        ("zero\u200bwidth\ufeff.txt", "zerowidth.txt"),
        ("line\u2028break.txt", "line break.txt"),
        ("no\u00a0break.txt", "no break.txt"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Aux.tar.gz", "_Aux.tar.gz"),
        ("nul", "_nul"),
        ("COM1.log", "_COM1.log"),
        ("lpt9", "_lpt9"),
        ("COM\u00b9.txt", "_COM\u00b9.txt"),
        ("CON .txt", "_CON .txt"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("COM0", "COM0"),
        ("e\u0301cole.txt", "\u00e9cole.txt"),  # NFC
        ("x/\u202e", "attachment"),
    ],
)
def test_safe_file_name(given_name: str, expected: str) -> None:
    assert safe_file_name(given_name) == expected


def test_long_names_keep_their_extension_within_200_bytes() -> None:
    name = safe_file_name("Ж" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= 200
    assert name == "Ж" * 98 + ".pdf"
    # A four-byte character is never cut in half.
    emoji = safe_file_name("\U0001f4c4" * 100 + ".txt")
    assert emoji == "\U0001f4c4" * 49 + ".txt"
    # An "extension" that is most of the name is not kept whole.
    odd = safe_file_name("a." + "b" * 300)
    assert len(odd.encode()) == 200
    assert odd.startswith("a.b")


@given(st.text(max_size=400))
def test_safe_file_name_properties(name: str) -> None:
    safe = safe_file_name(name)
    assert safe
    assert safe_file_name(safe) == safe
    assert len(safe.encode()) <= 200
    assert "/" not in safe
    assert "\\" not in safe
    assert safe not in {".", ".."}
    assert not safe.startswith((".", " "))
    assert not safe.endswith((".", " "))
    assert unicodedata.is_normalized("NFC", safe)
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in safe)


# -- records ----------------------------------------------------------------------------------


def test_record_json_is_canonical_and_round_trips() -> None:
    original = record(name="Список.pdf", recipients=("KGZ", "BLR", "KGZ"))
    data = original.to_json()
    assert data.endswith(b"}\n")
    assert "Список".encode() in data
    parsed = json.loads(data)
    assert list(parsed) == sorted(parsed)
    assert parsed["recipients"] == ["BLR", "KGZ"]
    assert parsed["created_at"] == "2017-06-06T09:30:00.123456Z"
    assert (
        data == (json.dumps(parsed, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()
    )
    again = AttachmentRecord.from_json(data)
    assert again == original
    assert again.to_json() == data


def test_record_times_are_kept_in_utc() -> None:
    assert record(created_at=WHEN.astimezone(timezone(timedelta(0)))).created_at.tzinfo is UTC
    with pytest.raises(InvalidAttachment):
        record(created_at=WHEN.replace(tzinfo=None))
    with pytest.raises(InvalidAttachment):
        record(created_at=WHEN.astimezone(timezone(timedelta(hours=3))))


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "0123456789ABCDEF"},
        {"id": "0123"},
        {"id": "../../../etc/pw"},
        {"name": "../x"},
        {"name": "CON"},
        {"name": "a\u202eb"},
        {"media_type": "pdf"},
        {"media_type": "text/plain; charset=utf-8"},
        {"media_type": "text/"},
        {"size": -1},
        {"size": True},
        {"size": "12"},
        {"sha256": "A" * 64},
        {"sha256": "a" * 40},
        {"recipients": ()},
        {"recipients": ("blr",)},
        {"recipients": ("-BLR",)},
        {"uploaded_by": "nobody"},
        {"uploaded_by": "a b@c"},
        {"uploaded_by": "a@b\x00"},
    ],
)
def test_invalid_records_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidAttachment):
        record(**changes)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("name"),
        lambda d: d.update(extra=1),
        lambda d: d.update(recipients="BLR"),
        lambda d: d.update(created_at=1496741400),
        lambda d: d.update(created_at="yesterday"),
        lambda d: d.update(created_at="2017-06-06T09:30:00"),
        lambda d: d.update(size=1.5),
    ],
)
def test_malformed_pointer_files_are_refused(mutate: object) -> None:
    data = json.loads(record().to_json())
    mutate(data)  # type: ignore[operator]
    with pytest.raises(InvalidAttachment):
        AttachmentRecord.from_json(json.dumps(data).encode())


@pytest.mark.parametrize("data", [b"\xff\xfe", b"[]", b"null", b"{", b""])
def test_pointer_files_that_are_not_json_objects_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidAttachment):
        AttachmentRecord.from_json(data)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "application/octet-stream"),
        ("", "application/octet-stream"),
        ("Application/PDF", "application/pdf"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", None),
    ],
)
def test_parse_media_type(header: str | None, expected: str | None) -> None:
    assert parse_media_type(header) == (expected or header)


@pytest.mark.parametrize("header", ["pdf", "text/plain/x", "../x", "text/pl ain", "/"])
def test_parse_media_type_refuses_garbage(header: str) -> None:
    with pytest.raises(InvalidAttachment):
        parse_media_type(header)


def test_attachment_path_is_validated() -> None:
    assert attachment_path(SLUG, "0123456789abcdef") == f"attachments/{SLUG}/0123456789abcdef.json"
    with pytest.raises(InvalidName):
        attachment_path("../x", "0123456789abcdef")
    with pytest.raises(InvalidAttachment):
        attachment_path(SLUG, "../../x")


# -- commits ----------------------------------------------------------------------------------


def test_recording_needs_the_document(store: RepoStore) -> None:
    with pytest.raises(DocumentNotFound):
        record_attachment(
            store,
            "BLR",
            SLUG,
            record(),
            author=AUTHOR,
            committer_name=COMMITTER,
            message="attach",
        )
    assert store.head("BLR", SLUG) is None
    put_document(store, "other-law")
    head = store.head("BLR", SLUG)
    with pytest.raises(DocumentNotFound):
        record_attachment(
            store,
            "BLR",
            SLUG,
            record(),
            author=AUTHOR,
            committer_name=COMMITTER,
            message="attach",
        )
    assert store.head("BLR", SLUG) == head


def test_recorded_pointer_is_a_signed_commit_git_accepts(store: RepoStore) -> None:
    first = put_document(store)
    pointer = record()
    sha = record_attachment(
        store,
        "BLR",
        SLUG,
        pointer,
        author=AUTHOR,
        committer_name=COMMITTER,
        message="attach the control list",
    )
    assert store.head("BLR", SLUG) == sha
    assert store.verify_commit("BLR", sha).status == "good"
    repo = store.path("BLR")
    fsck = git(repo, "fsck", "--strict")
    assert fsck.returncode == 0, fsck.stderr
    log = git(repo, "log", "--format=%H", "--name-status", "-1", sha).stdout
    assert f"A\tattachments/{SLUG}/{pointer.id}.json" in log
    shown = git(repo, "show", f"{sha}:attachments/{SLUG}/{pointer.id}.json").stdout
    assert shown.encode() == pointer.to_json()

    assert list_attachments(store, "BLR", SLUG) == [pointer]
    assert get_attachment(store, "BLR", SLUG, pointer.id) == pointer
    assert list_attachments(store, "BLR", SLUG, at=first) == []
    with pytest.raises(DocumentNotFound):
        get_attachment(store, "BLR", SLUG, pointer.id, at=first)
    # An attachment commit is not a new version of the document text.
    assert store.current_version("BLR", SLUG) == first


def test_an_id_is_never_recorded_twice(store: RepoStore) -> None:
    put_document(store)
    record_attachment(
        store, "BLR", SLUG, record(), author=AUTHOR, committer_name=COMMITTER, message="a"
    )
    head = store.head("BLR", SLUG)
    with pytest.raises(AttachmentConflict):
        record_attachment(
            store,
            "BLR",
            SLUG,
            record(sha256="b" * 64),
            author=AUTHOR,
            committer_name=COMMITTER,
            message="b",
        )
    assert store.head("BLR", SLUG) == head


def test_listing_is_ordered_by_time_then_id(store: RepoStore) -> None:
    put_document(store)
    later = record(id="0000000000000001", created_at=WHEN + timedelta(seconds=1))
    tie_b = record(id="bbbbbbbbbbbbbbbb")
    tie_a = record(id="aaaaaaaaaaaaaaaa")
    for pointer in (later, tie_b, tie_a):
        record_attachment(
            store, "BLR", SLUG, pointer, author=AUTHOR, committer_name=COMMITTER, message="a"
        )
    assert list_attachments(store, "BLR", SLUG) == [tie_a, tie_b, later]
    assert list_attachments(store, "BLR", "other-law") == []


def test_missing_attachments_are_not_found(store: RepoStore) -> None:
    put_document(store)
    for attachment_id in ("0123456789abcdef", "../../etc/passwd", "XYZ"):
        with pytest.raises(DocumentNotFound):
            get_attachment(store, "BLR", SLUG, attachment_id)
    with pytest.raises(InvalidName):
        list_attachments(store, "BLR", SLUG, at="-p")


def test_upload_round_trips_through_stock_age(
    store: RepoStore, blobs: BlobStore, tmp_path: Path
) -> None:
    put_document(store)
    data = os.urandom(150_000)
    pointer, commit = upload(store, blobs, data, name="../Контрольный список.pdf")
    assert pointer.name == "Контрольный список.pdf"
    assert pointer.size == len(data)
    assert pointer.recipients == ("BLR",)
    assert pointer.uploaded_by == AUTHOR.email
    assert store.verify_commit("BLR", commit).status == "good"
    assert blobs.verify_hash(pointer.sha256)
    identity = tmp_path / "blr.key"
    identity.write_text(identity_string(store.keys.current("BLR").encryption_key) + "\n")
    result = subprocess.run(
        [AGE, "-d", "-i", str(identity), str(blobs.path(pointer.sha256))],
        capture_output=True,
        check=True,
    )
    assert result.stdout == data


def test_sharing_rewraps_and_commits_new_recipients(store: RepoStore, blobs: BlobStore) -> None:
    put_document(store)
    data = os.urandom(70_000)
    pointer, first = upload(store, blobs, data)
    with pytest.raises(NoIdentityMatched):
        blobs.decrypt_to(pointer.sha256, io.BytesIO(), [store.keys.current("KGZ").encryption_key])

    blob = blobs.rewrap(
        pointer.sha256,
        [key.encryption_key for key in store.keys.all_private("BLR")],
        [store.keys.encryption_public_key("BLR"), store.keys.encryption_public_key("KGZ")],
    )
    shared = pointer.rewrapped(blob, ["KGZ", "BLR"])
    second = update_recipients(
        store,
        "BLR",
        SLUG,
        pointer.id,
        shared,
        author=AUTHOR,
        committer_name=COMMITTER,
        message="share with KGZ",
        expected_sha256=pointer.sha256,
    )
    assert store.verify_commit("BLR", second).status == "good"
    assert git(store.path("BLR"), "fsck", "--strict").returncode == 0
    now = get_attachment(store, "BLR", SLUG, pointer.id)
    assert now.recipients == ("BLR", "KGZ")
    assert now.sha256 == blob.sha256
    assert get_attachment(store, "BLR", SLUG, pointer.id, at=first) == pointer
    out = io.BytesIO()
    blobs.decrypt_to(now.sha256, out, [store.keys.current("KGZ").encryption_key])
    assert out.getvalue() == data
    # The old commit's blob is still there and still closed to KGZ.
    assert blobs.verify_hash(pointer.sha256)
    with pytest.raises(NoIdentityMatched):
        blobs.decrypt_to(pointer.sha256, io.BytesIO(), [store.keys.current("KGZ").encryption_key])

    # A writer that started from the old blob has lost the race.
    head = store.head("BLR", SLUG)
    with pytest.raises(AttachmentConflict) as raised:
        update_recipients(
            store,
            "BLR",
            SLUG,
            pointer.id,
            pointer.rewrapped(blob, ["BLR"]),
            author=AUTHOR,
            committer_name=COMMITTER,
            message="unshare",
            expected_sha256=pointer.sha256,
        )
    assert raised.value.current == blob.sha256
    assert store.head("BLR", SLUG) == head


def test_update_recipients_changes_nothing_else(store: RepoStore) -> None:
    put_document(store)
    pointer = record()
    record_attachment(
        store, "BLR", SLUG, pointer, author=AUTHOR, committer_name=COMMITTER, message="a"
    )
    head = store.head("BLR", SLUG)
    for changed in (
        record(sha256="b" * 64, name="renamed.pdf"),
        record(sha256="b" * 64, size=13),
        record(sha256="b" * 64, uploaded_by="mallory@kgz.example"),
    ):
        with pytest.raises(InvalidAttachment):
            update_recipients(
                store,
                "BLR",
                SLUG,
                pointer.id,
                changed,
                author=AUTHOR,
                committer_name=COMMITTER,
                message="b",
            )
    with pytest.raises(InvalidAttachment):
        update_recipients(
            store,
            "BLR",
            SLUG,
            "fedcba9876543210",
            pointer,
            author=AUTHOR,
            committer_name=COMMITTER,
            message="b",
        )
    with pytest.raises(DocumentNotFound):
        update_recipients(
            store,
            "BLR",
            SLUG,
            "fedcba9876543210",
            record(id="fedcba9876543210"),
            author=AUTHOR,
            committer_name=COMMITTER,
            message="b",
        )
    assert store.head("BLR", SLUG) == head


def test_a_failed_upload_leaves_neither_blob_nor_pointer(
    store: RepoStore, blobs: BlobStore
) -> None:
    put_document(store)
    head = store.head("BLR", SLUG)
    with pytest.raises(BlobTooLarge):
        upload_attachment(
            store,
            blobs,
            "BLR",
            SLUG,
            io.BytesIO(os.urandom(5000)),
            name="big.bin",
            media_type=None,
            recipients={"BLR": store.keys.encryption_public_key("BLR")},
            max_bytes=4096,
            author=AUTHOR,
            committer_name=COMMITTER,
            message="too big",
        )
    with pytest.raises(DocumentNotFound):
        upload_attachment(
            store,
            blobs,
            "BLR",
            "no-such-law",
            io.BytesIO(b"x"),
            name="x.bin",
            media_type=None,
            recipients={"BLR": store.keys.encryption_public_key("BLR")},
            max_bytes=4096,
            author=AUTHOR,
            committer_name=COMMITTER,
            message="nowhere",
        )
    assert store.head("BLR", SLUG) == head
    assert blob_files(blobs) == []


def test_the_blob_is_durable_before_the_pointer_is_committed(
    store: RepoStore, blobs: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_document(store)
    head = store.head("BLR", SLUG)
    seen: list[bool] = []

    def crash(*args: object, **kwargs: object) -> str:
        files = kwargs.get("files") or args[2]
        (data,) = files.values()  # type: ignore[attr-defined]
        pointer = AttachmentRecord.from_json(data)
        seen.append(blobs.exists(pointer.sha256))
        raise OSError("power cut")

    monkeypatch.setattr(store, "commit_files", crash)
    with pytest.raises(OSError, match="power cut"):
        upload(store, blobs, b"Article 2")
    # The crash left an unreferenced blob, never a pointer without its blob.
    assert seen == [True]
    assert store.head("BLR", SLUG) == head
    assert len(blob_files(blobs)) == 1


def test_new_records_get_random_ids(blobs: BlobStore, store: RepoStore) -> None:
    blob = blobs.put(io.BytesIO(b"x"), [store.keys.encryption_public_key("BLR")], max_bytes=1)
    ids = {
        new_attachment_record(
            name="x", blob=blob, recipients=["BLR"], uploaded_by="ivan@blr.example"
        ).id
        for _ in range(50)
    }
    assert len(ids) == 50
