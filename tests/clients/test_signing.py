"""What the client signs: only the bytes that say what the delegate asked for."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from clients.client import _offline_copy
from clients.git_tree import blob_id, tree_id
from clients.signing import (
    SigningError,
    check_approval_statement,
    check_commit_payload,
    check_commit_tree,
    ssh_sign,
)
from keys import sshsig
from keys.ssh_keys import parse_public_key_line
from tests.support.ssh_user_keys import new_key, public_line

TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
PARENT = "a" * 40
EMAIL = "expert@blr.example"


def commit(
    *,
    parent: str | None = PARENT,
    author: str = EMAIL,
    committer: str = "blr@parties.peerlex",
    message: str = "Вторая редакция",
    stamp: int | None = None,
    extra: str = "",
) -> str:
    when = int(time.time()) if stamp is None else stamp
    headers = [f"tree {TREE}"]
    if parent:
        headers.append(f"parent {parent}")
    headers.append(f"author Эксперт <{author}> {when} +0000")
    headers.append(f"committer Republic of Belarus <{committer}> {when} +0000")
    if extra:
        headers.append(extra)
    body = f"{message}\n\nPeerlex-User: {author}\nPeerlex-Party: BLR\n"
    return "\n".join(headers) + "\n\n" + body


def check(payload: str, base: str | None = PARENT, message: str = "Вторая редакция") -> None:
    check_commit_payload(payload, party="BLR", email=EMAIL, message=message, first=base is None)


def test_the_commit_asked_for_is_signed() -> None:
    check(commit())
    check(commit(parent=None), base=None)


@pytest.mark.parametrize(
    ("payload", "base"),
    [
        (commit(author="someone@else.example"), PARENT),
        (commit(committer="kgz@parties.peerlex"), PARENT),
        (commit(message="Другое"), PARENT),
        (commit(parent=None), PARENT),
        (commit(), None),
        (commit(stamp=int(time.time()) - 3600), PARENT),
        (commit(extra="encoding KOI8-R"), PARENT),
        (commit(extra=f"parent {PARENT}"), PARENT),
        (commit().replace("\n\n", "\n", 1), PARENT),
        (commit().replace(f"tree {TREE}", "tree x"), PARENT),
    ],
    ids=[
        "author",
        "committer",
        "message",
        "no-parent",
        "unexpected-parent",
        "stale",
        "encoding",
        "second-parent",
        "no-body",
        "tree",
    ],
)
def test_any_other_commit_is_refused(payload: str, base: str | None) -> None:
    with pytest.raises(SigningError):
        check(payload, base)


def statement(**changes: str) -> str:
    fields = {
        "type": "peerlex-approval/v1",
        "review": "dushanbe-2017",
        "party": "BLR",
        "slug": "export-law",
        "commit": PARENT,
        "approved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "approved_by": "head@blr.example",
        **changes,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def approve(payload: str, review: str | None = "dushanbe-2017") -> None:
    check_approval_statement(
        payload,
        review=review,
        party="BLR",
        slug="export-law",
        version=PARENT,
        email="head@blr.example",
    )


def test_the_approval_asked_for_is_signed() -> None:
    approve(statement())
    approve(statement(), review=None)


@pytest.mark.parametrize(
    "payload",
    [
        statement(commit="b" * 40),
        statement(party="KGZ"),
        statement(slug="other-law"),
        statement(review="minsk-2016"),
        statement(approved_by="expert@blr.example"),
        statement(type="peerlex-bundle/v1"),
        statement(approved_at="2016-01-01T00:00:00Z"),
        statement(extra="x"),
        "[]",
        "not json",
    ],
)
def test_any_other_statement_is_refused(payload: str) -> None:
    with pytest.raises(SigningError):
        approve(payload)


def test_ssh_keygen_signs_with_a_key_file(tmp_path: Path) -> None:
    private = new_key(tmp_path, "delegate")
    armored = ssh_sign(private, b"payload", "git")
    key = parse_public_key_line(public_line(private))
    sshsig.verify_signed_by(armored, b"payload", "git", key)


def test_a_missing_or_unusable_key_is_a_signing_error(tmp_path: Path) -> None:
    with pytest.raises(SigningError):
        ssh_sign(tmp_path / "absent", b"payload", "git")
    junk = tmp_path / "junk"
    junk.write_text("not a key\n")
    with pytest.raises(SigningError):
        ssh_sign(junk, b"payload", "git")


def test_tree_ids_are_gits(tmp_path: Path) -> None:
    files = {
        "documents/law.md": b"text\n",
        "documents/law.json": b"{}\n",
        "attachments/law/0123456789abcdef.json": b"{}",
        "documents-x": b"a file named like the directory, ordered as git orders it\n",
    }
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    made = subprocess.run(
        ["git", "-C", str(tmp_path), "write-tree"], capture_output=True, text=True, check=True
    )
    assert tree_id({path: blob_id(data) for path, data in files.items()}) == made.stdout.strip()


LAW_TEXT = b"Article 1.\n"


def listed(**extra: bytes) -> tuple[str, dict[str, str], dict[str, str]]:
    """A payload, its tree listing and written files, for the document `law`."""
    contents = {"documents/law.md": LAW_TEXT, "documents/law.json": b"{}\n", **extra}
    tree = {path: blob_id(data) for path, data in contents.items()}
    payload = commit().replace(f"tree {TREE}", f"tree {tree_id(tree)}")
    files = {"documents/law.md": LAW_TEXT.decode(), "documents/law.json": "{}\n"}
    return payload, tree, files


def test_the_tree_asked_for_is_signed() -> None:
    payload, tree, files = listed()
    check_commit_tree(payload, tree, files, slug="law", expected={"documents/law.md": LAW_TEXT})


def test_a_tree_that_is_not_what_was_asked_is_refused() -> None:
    payload, tree, files = listed()
    cases = [
        # The listing does not make the tree the payload names.
        (payload, {**tree, "documents/law.md": blob_id(b"other\n")}, files, LAW_TEXT),
        # Another text than the one sent.
        (payload, tree, files, b"Article 2.\n"),
        # The texts given do not hash to the listing.
        (payload, tree, {**files, "documents/law.json": '{"title": "x"}\n'}, LAW_TEXT),
        # No listing at all.
        (payload, None, files, LAW_TEXT),
        (payload, tree, ["not", "a", "map"], LAW_TEXT),
    ]
    for signed, listing, written, text in cases:
        with pytest.raises(SigningError):
            check_commit_tree(
                signed, listing, written, slug="law", expected={"documents/law.md": text}
            )
    # Another document's file slipped into the commit, listed truthfully, is refused too.
    payload, tree, files = listed(**{"documents/secret.md": b"unshared\n"})
    with pytest.raises(SigningError, match="also hold documents/secret.md"):
        check_commit_tree(payload, tree, files, slug="law", expected={})


def test_an_offline_copy_must_name_its_review_by_slug() -> None:
    """The server's list of offline copies is checked before its review goes anywhere."""
    good = {"review": "dushanbe-2017", "recipients": ["age1x"], "stored": False}
    assert _offline_copy(good)
    for review in ("../../etc", "Dushanbe", "", "a/b", 7):
        assert not _offline_copy({**good, "review": review})
