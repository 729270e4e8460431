"""The verifier reads allowed_signers as OpenSSH does, and skips what it cannot read fully."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clients.allowed_signers import parse_allowed_signers, principals_for
from keys import sshsig
from keys.allowed_signers import AllowedSigner, render

KEY = sshsig.public_key_line(Ed25519PrivateKey.generate().public_key())
T = datetime(2017, 6, 8, 12, 0, tzinfo=UTC)


def test_a_published_line_reads_back_with_its_limits() -> None:
    public = sshsig.parse_public_key_line(KEY)
    text = render([AllowedSigner("UNRCPD", public, T, "organisation", T - timedelta(days=30))])
    (key,) = parse_allowed_signers(text)
    assert key.principals == ("unrcpd@parties.peerlex",)
    assert key.namespaces == ("git", "peerlex-bundle")
    assert principals_for([key], KEY, "peerlex-bundle", T) == ["unrcpd@parties.peerlex"]
    assert principals_for([key], KEY, "peerlex-bundle", T + timedelta(seconds=1)) == []
    assert principals_for([key], KEY, "peerlex-bundle", T - timedelta(days=31)) == []
    assert principals_for([key], KEY, "peerlex-approval", T) == []


def test_a_line_without_options_allows_every_namespace_at_any_time() -> None:
    (key,) = parse_allowed_signers(f"blr@parties.peerlex {KEY} a comment\n")
    assert key.allows("blr@parties.peerlex", "peerlex-bundle", T)
    assert not key.allows("kgz@parties.peerlex", "peerlex-bundle", T)


def test_patterns_and_negation_follow_openssh() -> None:
    (key,) = parse_allowed_signers(f'*@parties.peerlex,!goe@parties.peerlex namespaces="g*" {KEY}')
    assert key.allows("blr@parties.peerlex", "git", T)
    assert not key.allows("goe@parties.peerlex", "git", T)
    assert not key.allows("blr@parties.peerlex", "peerlex-bundle", T)
    # A wildcard principal never names the party that signed a bundle.
    assert principals_for([key], KEY, "git", T) == []


@pytest.mark.parametrize(
    "line",
    [
        "x@y ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=",
        f"x@y cert-authority {KEY}",
        f'x@y foo="bar" {KEY}',
        f'x@y valid-before="tomorrow" {KEY}',
        f'x@y valid-after="2017" {KEY}',
        f'x@y namespaces="git",namespaces="peerlex-bundle" {KEY}',
        "x@y ssh-ed25519 !!!notbase64",
        "x@y ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
        "lonely-principal",
        f'"quoted principal" {KEY}',
        f'x@y namespaces="unterminated {KEY}',
        "",
        "# comment",
    ],
)
def test_lines_it_cannot_read_fully_are_skipped(line: str) -> None:
    assert parse_allowed_signers(line + "\n" + f"ok@y {KEY}\n")[-1].principals == ("ok@y",)
    assert len(parse_allowed_signers(line + "\n")) == 0


def test_times_without_z_are_local_and_short_forms_are_read() -> None:
    (utc,) = parse_allowed_signers(f'x@y valid-before="20170608Z" {KEY}')
    assert utc.valid_before == datetime(2017, 6, 8, tzinfo=UTC)
    (minutes,) = parse_allowed_signers(f'x@y valid-before="201706081230Z" {KEY}')
    assert minutes.valid_before == datetime(2017, 6, 8, 12, 30, tzinfo=UTC)
    (local,) = parse_allowed_signers(f'x@y valid-before="20170608123000" {KEY}')
    assert local.valid_before == datetime(2017, 6, 8, 12, 30).astimezone(UTC)
