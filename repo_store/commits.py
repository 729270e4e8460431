"""Commit objects: written with the SSHSIG signature in the gpgsig header, parsed, verified.

The layout is git's own (docs/formats.md): headers, a blank line, the message. The signature
covers the commit exactly as it reads without its gpgsig header, as `git verify-commit` expects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from keys import sshsig
from keys.protocol import GIT_NAMESPACE

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


def build_commit(
    *,
    tree: str,
    parent: str | None,
    author: Identity,
    committer: Identity,
    message: str,
    trailers: Sequence[tuple[str, str]],
    sign: Callable[[bytes], str],
    when: datetime | None = None,
) -> bytes:
    """Return the bytes of a signed commit object."""
    moment = when or datetime.now(UTC)
    headers = [f"tree {tree}"]
    if parent:
        headers.append(f"parent {parent}")
    headers.append(f"author {author.header(moment)}")
    headers.append(f"committer {committer.header(moment)}")
    body = message.strip().replace("\r\n", "\n") + "\n"
    if trailers:
        body += "\n" + "".join(f"{key}: {value}\n" for key, value in trailers)
    payload = ("\n".join(headers) + "\n\n" + body).encode()
    signature = sign(payload)
    # A multi-line header continues on lines that start with one space.
    sig_header = "gpgsig " + signature.rstrip("\n").replace("\n", "\n ") + "\n"
    head, _, rest = payload.partition(b"\n\n")
    return head + b"\n" + sig_header.encode() + b"\n" + rest


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
    """The outcome of checking a commit's signature against a party's keys."""

    status: str  # "good" | "bad" | "missing"
    fingerprint: str | None
    party: str | None


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def check_signature(
    commit: CommitInfo, party: str, trusted: Sequence[Ed25519PublicKey]
) -> SignatureCheck:
    """Say whether the commit carries a valid SSHSIG by one of the party's keys."""
    if commit.signature is None:
        return SignatureCheck("missing", None, None)
    try:
        verified = sshsig.verify(commit.signature, commit.payload, GIT_NAMESPACE)
    except sshsig.SignatureError:
        return SignatureCheck("bad", None, None)
    if _raw(verified.public_key) not in {_raw(key) for key in trusted}:
        return SignatureCheck("bad", verified.fingerprint, None)
    return SignatureCheck("good", verified.fingerprint, party)
