"""Signing on the delegate's own machine: `ssh-keygen -Y sign` over bytes the server built,
after checking that they say exactly what the delegate asked for.

The server is not trusted with a State's key, so it is not trusted with what that key signs
either: a commit or statement that names another author, party, parent, message or version is
refused here, before the key is used.
"""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeGuard

from clients.git_tree import blob_id, tree_id
from keys import sshsig
from keys.protocol import principal

# The server's clock and ours may differ a little; a payload dated far from now is not fresh.
CLOCK_SKEW = timedelta(minutes=10)
_SHA = re.compile(r"[0-9a-f]{40}")
_IDENT = re.compile(r"(?P<name>[^<>\n]*) <(?P<email>[^<>\n]*)> (?P<stamp>\d{1,12}) \+0000")
SIGN_TIMEOUT = 120  # seconds: a security key waits for a touch


class SigningError(Exception):
    """The payload is not what was asked for, or the key did not sign."""


def ssh_sign(key: Path, payload: bytes, namespace: str) -> str:
    """Sign payload with `ssh-keygen -Y sign`: key is a private key file, or a public key whose
    private half ssh-agent holds (smart cards and security keys included)."""
    if not key.is_file():
        raise SigningError(f"no key file {key}")
    # An absolute path cannot be read as an option, whatever the file is called.
    command = ["ssh-keygen", "-q", "-Y", "sign", "-f", str(key.resolve()), "-n", namespace]
    try:
        done = subprocess.run(
            command, input=payload, capture_output=True, timeout=SIGN_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SigningError(f"ssh-keygen did not sign: {exc}") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SigningError(f"ssh-keygen did not sign: {reason[-1] if reason else 'no reason'}")
    armored = done.stdout.decode("ascii", "replace")
    try:
        sshsig.read_envelope(armored)
    except sshsig.SignatureError as exc:
        raise SigningError(f"ssh-keygen gave no SSH signature: {exc}") from exc
    return armored


def _fresh(stamp: str, what: str) -> None:
    moment = datetime.fromtimestamp(int(stamp), UTC)
    if abs(moment - datetime.now(UTC)) > CLOCK_SKEW:
        raise SigningError(f"the {what} is dated {moment.isoformat()}, far from now")


def check_commit_payload(
    payload: str, *, party: str, email: str, message: str | re.Pattern[str], first: bool
) -> None:
    """Refuse a commit to sign unless it is a commit of party by email with this message (or
    one the pattern matches in full), built on a parent unless it is the document's first."""
    head, separator, body = payload.partition("\n\n")
    if not separator:
        raise SigningError("the commit to sign has no message")
    lines = head.split("\n")
    names = [line.split(" ", 1)[0] for line in lines]
    if names not in (["tree", "author", "committer"], ["tree", "parent", "author", "committer"]):
        raise SigningError(f"the commit to sign has unexpected headers: {', '.join(names)}")
    values = dict(line.split(" ", 1) for line in lines)
    if not re.fullmatch(r"[0-9a-f]{40}", values["tree"]):
        raise SigningError("the commit to sign names no tree")
    if first != ("parent" not in values):
        raise SigningError("the commit to sign does not build on the version you edited from")
    if "parent" in values and not re.fullmatch(r"[0-9a-f]{40}", values["parent"]):
        raise SigningError("the commit to sign names no parent commit")
    for header, expected in (("author", email), ("committer", principal(party))):
        found = _IDENT.fullmatch(values[header])
        if found is None or found["email"] != expected:
            raise SigningError(f"the commit to sign names another {header}")
        _fresh(found["stamp"], "commit to sign")
    trailers = f"\n\nPeerlex-User: {email}\nPeerlex-Party: {party}\n"
    said = body.rpartition(trailers)[0]
    if body != said + trailers:
        raise SigningError("the commit to sign carries other trailers")
    if isinstance(message, str):
        matches = said == message.strip().replace("\r\n", "\n")
    else:
        matches = message.fullmatch(said) is not None
    if not matches:
        raise SigningError("the commit to sign carries another message")


def document_text(content: str) -> bytes:
    """The bytes the server stores for a text: NFC, LF line endings, a final newline."""
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return (text if text.endswith("\n") or not text else text + "\n").encode()


def check_commit_tree(
    payload: str, tree: object, files: object, *, slug: str, expected: Mapping[str, bytes]
) -> dict[str, str]:
    """Refuse a commit to sign unless the server's listing of its tree makes the tree id the
    payload names, every file in it is the document's own, the files it writes are the texts
    given, and each path in expected holds exactly those bytes. Returns the written texts."""
    if not _string_map(tree) or not _string_map(files):
        raise SigningError("the commit to sign comes without a listing of its files")
    if not all(_SHA.fullmatch(sha) for sha in tree.values()):
        raise SigningError("the listing of the commit's files names no blob")
    try:
        computed = tree_id(tree)
    except ValueError as exc:
        raise SigningError(f"the listing of the commit's files is malformed: {exc}") from None
    if f"tree {computed}\n" != payload.split("\n", 1)[0] + "\n":
        raise SigningError("the listing of the commit's files does not make the tree it names")
    own = re.compile(
        rf"documents/{re.escape(slug)}\.(md|json)|attachments/{re.escape(slug)}/[0-9a-f]{{16}}\.json"
    )
    for path in tree:
        if not own.fullmatch(path):
            raise SigningError(f"the commit to sign would also hold {path}")
    for path, text in files.items():
        if tree.get(path) != blob_id(text.encode()):
            raise SigningError(f"the commit to sign would hold another {path}")
    for path, data in expected.items():
        if tree.get(path) != blob_id(data):
            raise SigningError(f"the commit to sign would record another {path}")
    return files


def _string_map(value: object) -> TypeGuard[dict[str, str]]:
    return isinstance(value, dict) and all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    )


def check_approval_statement(
    payload: str, *, review: str | None, party: str, slug: str, version: str, email: str
) -> None:
    """Refuse a statement to sign unless it approves exactly this version, by email."""
    try:
        statement = json.loads(payload)
    except ValueError as exc:
        raise SigningError("the statement to sign is not JSON") from exc
    if not isinstance(statement, dict):
        raise SigningError("the statement to sign is not a JSON object")
    expected: dict[str, str | None] = {
        "type": "peerlex-approval/v1",
        "review": review,
        "party": party,
        "slug": slug,
        "commit": version,
        "approved_by": email,
    }
    if set(statement) != {*expected, "approved_at"}:
        raise SigningError("the statement to sign has other fields than an approval's")
    for field, value in expected.items():
        if value is not None and statement[field] != value:
            raise SigningError(f"the statement to sign names another {field}")
    stamp = statement["approved_at"]
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError as exc:
        raise SigningError("the statement to sign has no time") from exc
    _fresh(str(int(moment.timestamp())), "statement to sign")
