"""`peerlex fetch-attachment --identity`: a sealed attachment is opened on the reader's machine.

A crafted server (a real HTTP server in a thread) answers each attachment id in its own way: an
age file made by the real `age` tool and marked sealed, plaintext marked sealed, an age file not
marked, and a file sealed for someone else. Only a marked age file is ever decrypted.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from clients.cli import main
from clients.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from clients.profiles import Profile, save_profile
from keys.age import generate_x25519_identity, identity_string, recipient_string
from tests.support.age_tool import AGE
from tests.support.umask import umask_set_to

PLAINTEXT = b"annex: list of licensed exporters\n" * 1000
PREFIX = "/api/v1/parties/TKM/documents/law/attachments/"


def _age_encrypt(recipient: str, data: bytes) -> bytes:
    """Encrypt with the real age tool, as any other age implementation would have."""
    return subprocess.run(
        [AGE, "-e", "-r", recipient], input=data, capture_output=True, check=True
    ).stdout


class SealedApi(BaseHTTPRequestHandler):
    """Answers each attachment id from the class's `answers`: (body, marked sealed)."""

    answers: dict[str, tuple[bytes, bool]] = {}

    def do_GET(self) -> None:
        body, sealed = self.answers.get(urlsplit(self.path).path.removeprefix(PREFIX), (b"", False))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if sealed:
            self.send_header("X-Peerlex-Encryption", "age")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def identity_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A crafted server, a profile logged in to it, and the State's identity file."""
    mine, other = generate_x25519_identity(), generate_x25519_identity()
    sealed = _age_encrypt(recipient_string(mine.public_key()), PLAINTEXT)
    SealedApi.answers = {
        "0000000000000001": (sealed, True),
        "0000000000000002": (PLAINTEXT, True),
        "0000000000000003": (sealed, False),
        "0000000000000004": (_age_encrypt(recipient_string(other.public_key()), b"x"), True),
        "0000000000000005": (sealed[:-40], True),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), SealedApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PEERLEX_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PEERLEX_PROFILE", raising=False)
    monkeypatch.delenv("PEERLEX_AGE_IDENTITY", raising=False)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    save_profile(Profile("default", url, "me@example", "plx_token", "2999-01-01T00:00:00Z"))
    identity = tmp_path / "tkm.key"
    identity.write_text(f"# TKM delegation\n{identity_string(mine)}\n")
    try:
        with umask_set_to(0o022):
            yield identity
    finally:
        server.shutdown()
        server.server_close()


def _fetch(attachment: str, out: Path, *extra: str) -> Any:
    args = ["fetch-attachment", "TKM", "law", attachment, "-o", str(out), *extra]
    return CliRunner().invoke(main, args)


def test_a_sealed_attachment_opens_with_the_identity(identity_file: Path) -> None:
    out = identity_file.with_name("annex.txt")
    done = _fetch("0000000000000001", out, "--identity", str(identity_file))
    assert done.exit_code == EXIT_OK, done.output
    assert out.read_bytes() == PLAINTEXT
    assert f"saved {len(PLAINTEXT)} bytes" in done.output


def test_the_identity_may_come_from_the_environment(
    identity_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEERLEX_AGE_IDENTITY", str(identity_file))
    out = identity_file.with_name("annex.txt")
    assert _fetch("0000000000000001", out).exit_code == EXIT_OK
    assert out.read_bytes() == PLAINTEXT


def _nothing_written(directory: Path) -> bool:
    return sorted(p.name for p in directory.iterdir()) == ["config", "tkm.key"]


def test_without_an_identity_it_says_so_and_writes_nothing(identity_file: Path) -> None:
    done = _fetch("0000000000000001", identity_file.with_name("annex.txt"))
    assert done.exit_code == EXIT_USAGE, done.output
    assert "--identity" in done.output
    assert _nothing_written(identity_file.parent)


@pytest.mark.parametrize(
    ("attachment", "says"),
    [
        ("0000000000000002", "not an age file"),  # plaintext claimed to be sealed
        ("0000000000000004", "none of the identities"),  # sealed for another State
        ("0000000000000005", "does not open"),  # cut short
    ],
)
def test_what_does_not_open_is_an_error_and_nothing_is_written(
    identity_file: Path, attachment: str, says: str
) -> None:
    done = _fetch(
        attachment, identity_file.with_name("annex.txt"), "--identity", str(identity_file)
    )
    assert done.exit_code == EXIT_FAILED, done.output
    assert says in done.output
    assert _nothing_written(identity_file.parent)


def test_an_answer_not_marked_sealed_is_saved_as_it_came(identity_file: Path) -> None:
    """Only the server's mark makes the client decrypt: an age file attached as such stays one."""
    out = identity_file.with_name("annex.age")
    done = _fetch("0000000000000003", out, "--identity", str(identity_file))
    assert done.exit_code == EXIT_OK, done.output
    assert out.read_bytes() == SealedApi.answers["0000000000000003"][0]


def test_a_bad_identity_file_is_a_usage_error(identity_file: Path) -> None:
    identity_file.write_text("age1notasecret\n")
    done = _fetch(
        "0000000000000001", identity_file.with_name("a.txt"), "--identity", str(identity_file)
    )
    assert done.exit_code == EXIT_USAGE, done.output
    assert "--identity" in done.output
