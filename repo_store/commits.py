"""Commit objects: written with the SSHSIG signature in the gpgsig header, parsed, verified.

The layout is git's own (docs/formats.md): headers, a blank line, the message. The signature
covers the commit exactly as it reads without its gpgsig header, as `git verify-commit` expects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from keys.protocol import GIT_NAMESPACE
from keys.trusted_keys import SignerCheck, TrustedKey, check_signed

# Names and e-mails end up between "<" and ">" on a header line; these would break it.
_UNSAFE_IDENT = re.compile(r"[<>\n\r\x00]")


@dataclass(frozen=True)
class Identity:
    """A git author or committer."""

    name: str
    email: str

    def header(self, when: datetime) -> str:
        name = _UNSAFE_IDENT.sub("", self.name).strip() or self.email
        email = _UNSAFE_IDENT.sub("", self.email)
        return f"{name} <{email}> {int(when.timestamp())} +0000"


@dataclass(frozen=True)
class CommitInfo:
    """A parsed commit: what a version object is made of."""

    sha: str
    tree: str
    parent: str | None
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    committed_at: datetime
    message: str
    signature: str | None
    payload: bytes

    @property
    def summary(self) -> str:
        """The message as its author wrote it, without the trailers peerlex adds."""
        text, _, _ = self.message.partition("\n\nPeerlex-User: ")
        return text.strip()


@dataclass(frozen=True)
class PreparedCommit:
    """A commit built but not written: the head it builds on, its files, and its payload."""

    party: str
    slug: str
    parent: str | None
    files: Mapping[str, bytes]
    payload: bytes


def commit_payload(
    *,
    tree: str,
    parent: str | None,
    author: Identity,
    committer: Identity,
    message: str,
    trailers: Sequence[tuple[str, str]],
    when: datetime | None = None,
) -> bytes:
    """Return a commit object's bytes exactly as its signature covers them (no gpgsig)."""
    moment = when or datetime.now(UTC)
    headers = [f"tree {tree}"]
    if parent:
        headers.append(f"parent {parent}")
    headers.append(f"author {author.header(moment)}")
    headers.append(f"committer {committer.header(moment)}")
    body = message.strip().replace("\r\n", "\n") + "\n"
    if trailers:
        body += "\n" + "".join(f"{key}: {value}\n" for key, value in trailers)
    return ("\n".join(headers) + "\n\n" + body).encode()


def signed_commit(payload: bytes, signature: str) -> bytes:
    """Return the commit object: the payload with the signature in its gpgsig header."""
    # A multi-line header continues on lines that start with one space.
    sig_header = "gpgsig " + signature.rstrip("\n").replace("\n", "\n ") + "\n"
    head, _, rest = payload.partition(b"\n\n")
    return head + b"\n" + sig_header.encode() + b"\n" + rest


def payload_tree(payload: bytes) -> str:
    """The tree a commit payload names (its first header line)."""
    first = payload.split(b"\n", 1)[0].decode("ascii", "replace")
    return first.removeprefix("tree ")


def _parse_ident(value: str) -> tuple[str, str, datetime]:
    match = re.fullmatch(r"(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)", value)
    if not match:
        return value, "", datetime.fromtimestamp(0, UTC)
    name, email, stamp, sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    tz = timezone(offset if sign == "+" else -offset)
    return name, email, datetime.fromtimestamp(int(stamp), tz).astimezone(UTC)


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    """Split a commit object into its fields and the payload its signature covers."""
    head, _, body = raw.partition(b"\n\n")
    fields: dict[str, str] = {}
    payload_lines: list[bytes] = []
    signature_lines: list[str] = []
    in_signature = False
    for line in head.split(b"\n"):
        if line.startswith(b" ") and in_signature:
            signature_lines.append(line[1:].decode("ascii", "replace"))
            continue
        in_signature = False
        key, _, value = line.decode("utf-8", "replace").partition(" ")
        if key == "gpgsig":
            in_signature = True
            signature_lines.append(value)
            continue
        payload_lines.append(line)
        fields.setdefault(key, value)
    author_name, author_email, _ = _parse_ident(fields.get("author", ""))
    committer_name, committer_email, committed_at = _parse_ident(fields.get("committer", ""))
    return CommitInfo(
        sha=sha,
        tree=fields.get("tree", ""),
        parent=fields.get("parent"),
        author_name=author_name,
        author_email=author_email,
        committer_name=committer_name,
        committer_email=committer_email,
        committed_at=committed_at,
        message=body.decode("utf-8", "replace"),
        signature="\n".join(signature_lines) + "\n" if signature_lines else None,
        payload=b"\n".join(payload_lines) + b"\n\n" + body,
    )


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking a signature (a commit's, an approval's) against a party's keys."""

    status: str  # "good" | "bad" | "missing"
    fingerprint: str | None
    party: str | None
    # Whose key made a good signature: a person's e-mail, or None for the party's server key.
    owner: str | None = None
    held_by_server: bool = False


def party_signature(result: SignerCheck, party: str) -> SignatureCheck:
    """Say what a check against the party's trusted keys found, as the party's signature."""
    if result.key is None:
        # A signature by a key the party did not sign with then is as good as a bad one here;
        # the offline verifier tells the two apart.
        status = "bad" if result.status == "unknown" else result.status
        return SignatureCheck(status, result.fingerprint, None)
    return SignatureCheck(
        "good", result.fingerprint, party, result.key.owner, result.key.held_by_server
    )


def check_signature(
    commit: CommitInfo, party: str, trusted: Sequence[TrustedKey]
) -> SignatureCheck:
    """Say whether the commit carries a valid SSHSIG by a key the party signed with then."""
    result = check_signed(
        commit.signature, commit.payload, GIT_NAMESPACE, commit.committed_at, trusted
    )
    return party_signature(result, party)
