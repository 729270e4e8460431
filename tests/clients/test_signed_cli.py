"""`peerlex push --key` and `peerlex approve --key` against a live server: signed on this machine,
with the key saved by `peerlex login --key`, and checked by stock git and ssh-keygen."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from clients.cli.exits import EXIT_INVALID, EXIT_OK
from keys.protocol import principal
from server.demo import REVIEW
from tests.clients.test_cli import assert_one_line_error, login, peerlex, profiles_file
from tests.support.live_server import PEERLEX, LiveServer
from tests.support.signatures import git_verify_commit, ssh_keygen_verify
from tests.support.ssh_user_keys import fingerprint_of, new_key

LAW = "Статья 1. Сфера применения\n\nНастоящий Закон регулирует экспорт.\n"


def registered(server: LiveServer, tmp_path: Path, profile: str, name: str) -> Path:
    private = new_key(tmp_path, name)
    added = peerlex(server, "keys", "add", str(private.with_suffix(".pub")), profile=profile)
    assert added.returncode == EXIT_OK, added.stderr
    return private


def test_push_signs_with_the_key_saved_at_login(server: LiveServer, tmp_path: Path) -> None:
    login(server, "signer", "expert@blr.example")
    private = registered(server, tmp_path, "signer", "delegate")
    done = peerlex(
        server,
        "login",
        "--email",
        "expert@blr.example",
        "--key",
        str(private),
        stdin="dushanbe-demo-2017\n",
        profile="signer",
    )
    assert done.returncode == EXIT_OK, done.stderr
    saved = json.loads(profiles_file(server).read_text())["profiles"]["signer"]
    assert saved["key"] == str(private.resolve())
    draft = tmp_path / "law.md"
    draft.write_text(LAW)
    pushed = peerlex(
        server, "push", str(draft), "--party", "BLR", "--slug", "signed-law", "-q", profile="signer"
    )
    assert pushed.returncode == EXIT_OK, pushed.stderr
    sha = pushed.stdout.strip()
    log = peerlex(server, "log", "BLR", "signed-law", profile="signer")
    assert f"signed by expert@blr.example's key {fingerprint_of(private)}" in log.stdout
    signers = tmp_path / "allowed_signers"
    assert peerlex(server, "allowed-signers", "-o", str(signers), profile="signer").returncode == 0
    checked = git_verify_commit(server.data / "repos" / "BLR.git", signers, sha)
    assert checked.returncode == 0, checked.stderr
    assert fingerprint_of(private) in checked.stderr
    # A key that is not registered signs, but the server refuses what it signed.
    stranger = new_key(tmp_path, "stranger")
    draft.write_text(LAW + "\nСтатья 2.\n")
    refused = peerlex(
        server,
        "push",
        str(draft),
        "--party",
        "BLR",
        "--slug",
        "signed-law",
        "--base",
        sha,
        "--key",
        str(stranger),
        profile="signer",
    )
    assert "signature" in assert_one_line_error(refused, EXIT_INVALID)


def test_a_head_approves_with_a_key(server: LiveServer, tmp_path: Path) -> None:
    login(server, "organiser", "organiser@unrcpd.example")
    login(server, "head", "head@blr.example")
    private = registered(server, tmp_path, "head", "head")
    shares = json.loads(peerlex(server, "shares", REVIEW, "--json", profile="head").stdout)
    law = [s for s in shares if s["party"] == "BLR"][-1]  # the version last shared
    moved = peerlex(server, "review-state", REVIEW, "agreement", profile="organiser")
    assert moved.returncode == EXIT_OK, moved.stderr
    args = ["--party", "BLR", "--slug", law["slug"], "--version", law["version"]]
    approved = peerlex(
        server, "approve", REVIEW, *args, "--key", str(private), "--json", profile="head"
    )
    assert approved.returncode == EXIT_OK, approved.stderr
    made = json.loads(approved.stdout)
    signature = tmp_path / "approval.sig"
    signature.write_text(made["signature"])
    signers = tmp_path / "allowed_signers"
    assert peerlex(server, "allowed-signers", "-o", str(signers), profile="head").returncode == 0
    checked = ssh_keygen_verify(
        signers, principal("BLR"), "peerlex-approval", signature, made["statement"].encode()
    )
    assert checked.returncode == 0, checked.stderr
    assert fingerprint_of(private) in checked.stdout.decode() + checked.stderr.decode()


def test_push_signs_with_a_key_held_by_ssh_agent(server: LiveServer, tmp_path: Path) -> None:
    """`--key KEY.pub` with the private half only in ssh-agent, as with a smart card or a
    security key: the private key file is gone before the push."""
    login(server, "agent", "expert@blr.example")
    private = registered(server, tmp_path, "agent", "agent-held")
    socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if socket.exists():
                break
            time.sleep(0.05)
        env = {**server.env, "SSH_AUTH_SOCK": str(socket)}
        subprocess.run(["ssh-add", "-q", str(private)], env=env, check=True, capture_output=True)
        private.unlink()
        draft = tmp_path / "agent-law.md"
        draft.write_text(LAW)
        command = [PEERLEX, "--profile", "agent", "push", str(draft), "--party", "BLR"]
        command += ["--slug", "agent-law", "--key", str(private.with_suffix(".pub"))]
        pushed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    assert pushed.returncode == EXIT_OK, pushed.stderr
    log = peerlex(server, "log", "BLR", "agent-law", profile="agent")
    assert "signed by expert@blr.example's key" in log.stdout
