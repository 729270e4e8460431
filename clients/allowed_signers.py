"""An allowed_signers file read as OpenSSH reads it: principals, namespaces, validity, keys.

Lines this reader cannot understand fully (other key types, certificate authorities, options it
does not know, unreadable times) are skipped, never trusted: a key is only as limited as its
options say, so a key whose options were not understood must not be used at all.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from keys import sshsig
from keys.allowed_signers import openssh_time

_KEY_TYPE = "ssh-ed25519"
# One option: a bare name or name="value" (a value may hold commas, never a quote).
_OPTION = r'[A-Za-z][A-Za-z0-9-]*(?:="[^"]*")?'
_OPTIONS = re.compile(rf"{_OPTION}(?:,{_OPTION})*")
_TIME = re.compile(r"(\d{8})(\d{4}(?:\d{2})?)?(Z?)")
MAX_LINE = 16 * 1024


@dataclass(frozen=True)
class SignerKey:
    """One usable line: who may sign with which key, in which namespaces, and when."""

    principals: tuple[str, ...]
    public_key: str  # `ssh-ed25519 AAAA…`, as sshsig.public_key_line writes it
    namespaces: tuple[str, ...] | None  # None: every namespace
    valid_after: datetime | None
    valid_before: datetime | None

    def allows(self, principal: str, namespace: str, at: datetime) -> bool:
        """Whether this line lets principal sign in namespace at the time at."""
        if not _matches(principal, self.principals):
            return False
        if self.namespaces is not None and not _matches(namespace, self.namespaces):
            return False
        if self.valid_after is not None and at < self.valid_after:
            return False
        return self.valid_before is None or at <= self.valid_before


def _matches(value: str, patterns: tuple[str, ...]) -> bool:
    """OpenSSH's pattern lists: `*` and `?` wildcards, a `!` pattern that matches denies."""
    matched = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if fnmatchcase(value, pattern[1:]):
                return False
        elif fnmatchcase(value, pattern):
            matched = True
    return matched


def _time(value: str) -> datetime:
    """OpenSSH's YYYYMMDD[HHMM[SS]][Z]: UTC with a Z, the local time zone without."""
    match = _TIME.fullmatch(value)
    if match is None:
        raise ValueError(f"not a time: {value!r}")
    day, clock, utc = match.groups()
    clock = (clock or "0000").ljust(6, "0")
    naive = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    return naive.replace(tzinfo=UTC) if utc else naive.astimezone(UTC)


def _options(text: str) -> dict[str, str | None]:
    if not _OPTIONS.fullmatch(text):
        raise ValueError("options not understood")
    options: dict[str, str | None] = {}
    for match in re.finditer(_OPTION, text):
        name, _, value = match.group(0).partition("=")
        if name.lower() in options:
            raise ValueError(f"option {name} given twice")
        options[name.lower()] = value[1:-1] if value else None
    return options


def _signer_key(line: str) -> SignerKey | None:
    fields = line.split()
    if len(fields) < 3:
        return None
    principals = tuple(fields[0].split(","))
    if fields[1] == _KEY_TYPE:
        options: dict[str, str | None] = {}
        key_fields = fields[1:]
    else:
        try:
            options = _options(fields[1])
        except ValueError:
            return None
        key_fields = fields[2:]
    if len(key_fields) < 2 or key_fields[0] != _KEY_TYPE:
        return None
    if set(options) - {"namespaces", "valid-after", "valid-before"}:
        return None  # cert-authority, or an option this reader does not know
    try:
        key = sshsig.parse_public_key_line(" ".join(key_fields[:2]))
        namespaces = options.get("namespaces")
        after, before = options.get("valid-after"), options.get("valid-before")
        return SignerKey(
            principals=principals,
            public_key=sshsig.public_key_line(key),
            namespaces=tuple(namespaces.split(",")) if namespaces is not None else None,
            valid_after=_time(after) if after is not None else None,
            valid_before=_time(before) if before is not None else None,
        )
    except (sshsig.SignatureError, ValueError, binascii.Error):
        return None


def parse_allowed_signers(text: str) -> list[SignerKey]:
    """Every line of an allowed_signers file that this reader understands fully."""
    keys = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or len(line) > MAX_LINE or line.startswith('"'):
            continue  # a quoted principal (with spaces) is never one of ours
        key = _signer_key(line)
        if key is not None:
            keys.append(key)
    return keys


def principals_for(
    keys: list[SignerKey], public_key: str, namespace: str, at: datetime
) -> list[str]:
    """The plain principals (no wildcards) that may sign with public_key in namespace at at."""
    return sorted(
        {
            principal
            for key in keys
            if key.public_key == public_key
            for principal in key.principals
            if not any(c in principal for c in "*?!") and key.allows(principal, namespace, at)
        }
    )


def render_allowed_signers(keys: list[SignerKey]) -> str:
    """Keys as the allowed_signers file git is given: given the keys a verifier understood, git
    and the in-process checks then trust exactly the same keys."""
    lines = []
    for key in keys:
        options = []
        if key.namespaces is not None:
            options.append(f'namespaces="{",".join(key.namespaces)}"')
        if key.valid_after is not None:
            options.append(f'valid-after="{openssh_time(key.valid_after)}"')
        if key.valid_before is not None:
            options.append(f'valid-before="{openssh_time(key.valid_before)}"')
        fields = [",".join(key.principals), ",".join(options), key.public_key]
        lines.append(" ".join(f for f in fields if f))
    return "".join(line + "\n" for line in lines)
