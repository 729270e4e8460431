"""Approvals and the final bundle, checked with standard tools only."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from flask import Flask

from keys.bundle_format import REPOSITORY_CONFIG
from tests.bundle_fixtures import ANNEX, Agreed
from tests.server.review_fixtures import LAW_V1, LAW_V3, ReviewWorld
from tests.support.signatures import ssh_keygen_verify


def run(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> str:
    result = subprocess.run(list(args), cwd=cwd, input=stdin, capture_output=True, check=False)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return (result.stdout + result.stderr).decode()


def test_bundle_verifies_with_standard_tools(agreed: Agreed, tmp_path: Path) -> None:
    out = tmp_path / "unpacked"
    out.mkdir()
    run("tar", "-xf", str(agreed.bundle), "-C", str(out))
    root = out / "dushanbe-2017"
    signers = root / "allowed_signers"
    sums = ssh_keygen_verify(
        signers,
        "unrcpd@parties.peerlex",
        "peerlex-bundle",
        root / "SHA256SUMS.sig",
        (root / "SHA256SUMS").read_bytes(),
    )
    assert sums.returncode == 0, sums.stderr
    assert "OK" in run("sha256sum", "-c", "SHA256SUMS", cwd=root)
    manifest = json.loads((root / "manifest.json").read_text())
    for approval in manifest["approvals"]:
        approved = ssh_keygen_verify(
            signers,
            f"{approval['party'].lower()}@parties.peerlex",
            "peerlex-approval",
            root / approval["signature"],
            (root / approval["statement"]).read_bytes(),
        )
        assert approved.returncode == 0, approved.stderr
    for repo in manifest["repositories"]:
        # The README's way: compare the config with the prescribed one, then run git with
        # options that keep any other configuration from mattering.
        git_dir = root / repo["path"]
        assert (git_dir / "config").read_bytes() == REPOSITORY_CONFIG
        git = ["git", "-c", "core.hooksPath=/dev/null", "-c", "gpg.ssh.program=ssh-keygen"]
        git += ["-c", f"gpg.ssh.allowedSignersFile={signers}", f"--git-dir={git_dir}"]
        run(*git, "fsck", "--strict", "--no-dangling")
        for ref, commit in repo["refs"].items():
            assert 'Good "git" signature' in run(*git, "verify-commit", commit)
            assert run(*git, "rev-parse", "--verify", "--end-of-options", ref).strip() == commit
            slug = ref.rsplit("/", 1)[-1]
            text = run(*git, "show", f"{commit}:documents/{slug}.md")
            assert text == (root / f"documents/{repo['party']}/{slug}.md").read_text()
    (attachment,) = manifest["attachments"]
    plain = subprocess.run(
        ["age", "-d", "-i", str(agreed.identity), str(root / attachment["file"])],
        capture_output=True,
        check=True,
    ).stdout
    assert plain == ANNEX
    assert (root / "documents/BLR/export-law.md").read_text() == LAW_V3


def test_peerlex_verify_passes(agreed: Agreed, tmp_path: Path) -> None:
    """With the keys GET /api/v1/allowed_signers publishes as the trusted list."""
    trusted = tmp_path / "trusted_signers"
    trusted.write_bytes(agreed.world["organiser"].get("/api/v1/allowed_signers").data)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "peerlex"),
            "verify",
            str(agreed.bundle),
            "--allowed-signers",
            str(trusted),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "VERIFIED" in result.stdout
    assert "FAIL" not in result.stdout


def test_rebuilding_gives_identical_bytes(agreed: Agreed) -> None:
    first = hashlib.sha256(agreed.bundle.read_bytes()).hexdigest()
    rebuilt = agreed.world["organiser"].post(agreed.world.url("/bundle"))
    assert rebuilt.status_code == 201
    assert rebuilt.json["sha256"] == first
    assert agreed.world["organiser"].get(agreed.world.url()).json["state"] == "closed"


def test_bundle_is_refused_until_everything_is_approved(
    app: Flask, review_world: ReviewWorld
) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    world.share(v1)
    assert world["organiser"].post(world.url("/bundle")).status_code == 409  # still open
    world["organiser"].patch(world.url(), json={"state": "agreement"})
    refused = world["organiser"].post(world.url("/bundle"))
    assert refused.status_code == 409
    assert refused.json["missing"] == [{"party": "BLR", "slug": "export-law", "version": v1}]
    assert world["own"].post(world.url("/bundle")).status_code == 403


def test_approval_rules(review_world: ReviewWorld) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    v3 = world.push(LAW_V3)
    world.share(v1)
    body = {"party": "BLR", "slug": "export-law", "version": v1}
    assert world["head"].post(world.url("/approvals"), json=body).status_code == 409  # open
    world["organiser"].patch(world.url(), json={"state": "agreement"})
    assert world["own"].post(world.url("/approvals"), json=body).status_code == 403  # not head
    assert world["peer_head"].post(world.url("/approvals"), json=body).status_code == 403
    unshared = {**body, "version": v3}
    assert world["head"].post(world.url("/approvals"), json=unshared).status_code == 422
    approved = world["head"].post(world.url("/approvals"), json=body)
    assert approved.status_code == 201
    assert approved.json["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    # A newer share voids the approval.
    world.share(v3)
    listed = world["head"].get(world.url("/approvals")).json
    assert [a["voided"] for a in listed] == [True]
    assert world["organiser"].post(world.url("/bundle")).json["missing"][0]["version"] == v3


# Those who take part see the review, so the bundle is refused (403); others do not see it (404).
@pytest.mark.parametrize(
    ("role", "status"), [("peer", 403), ("observer", 403), ("admin", 404), ("outsider", 404)]
)
def test_only_organisers_get_the_bundle(agreed: Agreed, role: str, status: int) -> None:
    assert agreed.world[role].get(agreed.world.url("/bundle")).status_code == status


def test_tar_is_deterministic_in_form(agreed: Agreed) -> None:
    with tarfile.open(agreed.bundle) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    assert len({m.mtime for m in members}) == 1


def test_each_repository_holds_exactly_the_approved_commits(agreed: Agreed, tmp_path: Path) -> None:
    """repos/<P>.git is a shallow bare repository of the approved commits, their trees and blobs:
    no parent, no version that was shared but not approved (BLR's first), nothing else."""
    out = tmp_path / "unpacked"
    out.mkdir()
    run("tar", "-xf", str(agreed.bundle), "-C", str(out))
    root = out / "dushanbe-2017"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["format"] == "peerlex-bundle/v2"
    for repo in manifest["repositories"]:
        git = ["git", f"--git-dir={root / repo['path']}"]
        assert repo["path"] == f"repos/{repo['party']}.git"
        approved = sorted(repo["refs"].values())
        assert (root / repo["path"] / "shallow").read_text() == "".join(f"{c}\n" for c in approved)
        listed = [
            line.split()
            for line in run(*git, "cat-file", "--batch-all-objects", "--batch-check").splitlines()
        ]
        assert sorted(sha for sha, kind, _ in listed if kind == "commit") == approved
        reachable = run(*git, "rev-list", "--objects", "--no-walk", *approved).split()
        assert {sha for sha, _, _ in listed} == {r for r in reachable if len(r) == 40}
        assert sorted(p.name for p in (root / repo["path"]).iterdir()) == [
            "HEAD",
            "config",
            "objects",
            "refs",
            "shallow",
        ]
    store = agreed.app.extensions["peerlex.services"].store
    history = [v.sha for v in store.versions("BLR", "export-law")]
    assert len(history) == 3
    blr = root / "repos/BLR.git/objects"
    assert [(blr / sha[:2] / sha[2:]).exists() for sha in history] == [True, False, False]


def test_published_keys_carry_their_namespaces(agreed: Agreed) -> None:
    """States sign commits and approvals, organisations commits and bundles, the deployment
    its audit checkpoints: each published line says so, in the API and in the bundle."""
    published = agreed.world["organiser"].get("/api/v1/allowed_signers").data.decode()
    with tarfile.open(agreed.bundle) as tar:
        member = tar.extractfile("dushanbe-2017/allowed_signers")
        assert member is not None
        in_bundle = member.read().decode()
    for text in (published, in_bundle):
        namespaces = {
            line.split()[0]: line.split()[1].split(",valid-")[0] for line in text.splitlines()
        }
        assert namespaces["blr@parties.peerlex"] == 'namespaces="git,peerlex-approval"'
        assert namespaces["unrcpd@parties.peerlex"] == 'namespaces="git,peerlex-bundle"'
        assert namespaces["peerlex@parties.peerlex"] == 'namespaces="peerlex-audit"'


def test_the_readme_repository_steps_run_as_written(agreed: Agreed, tmp_path: Path) -> None:
    """Step 4 of README.txt, with BLR's commit put in, passes on the unpacked bundle."""
    out = tmp_path / "unpacked"
    out.mkdir()
    run("tar", "-xf", str(agreed.bundle), "-C", str(out))
    root = out / "dushanbe-2017"
    readme = (root / "README.txt").read_text()
    config_shown = readme[readme.index("    [core]\n") : readme.index("\n\n(`cat -A")]
    assert config_shown.replace("    ", "") + "\n" == (root / "repos/BLR.git/config").read_text()
    steps = readme[
        readme.index("still in dushanbe-2017/:\n") : readme.index("Every commit is signed")
    ]
    commands = "\n".join(line[4:] for line in steps.splitlines()[1:] if line.startswith("    "))
    commit = json.loads((root / "manifest.json").read_text())["documents"][0]["commit"]
    script = (
        commands.replace("<commit from manifest.json>", commit)
        .replace("<commit>", commit)
        .replace("documents/S.md", "documents/export-law.md")
        .replace("documents/BLR/S.md", "documents/BLR/export-law.md")
    )
    assert "verify-commit" in script
    output = run("bash", "-euo", "pipefail", "-c", script, cwd=root)
    assert 'Good "git" signature for blr@parties.peerlex' in output


def _readme_commands(readme: str, step: int) -> list[str]:
    """The indented command lines of one numbered step of README.txt, as written."""
    start = readme.index(f"\n{step}. ")
    following = readme.find(f"\n{step + 1}. ", start)
    section = readme[start : following if following != -1 else len(readme)]
    return [line[4:] for line in section.splitlines() if line.startswith("    ")]


def test_the_readme_checks_run_as_written(agreed: Agreed, tmp_path: Path) -> None:
    """Steps 1, 2, 3, 5 and 6 of README.txt, with the approval, the attachment and the
    identity put in for their placeholders, pass on the unpacked bundle, in one shell."""
    out = tmp_path / "unpacked"
    out.mkdir()
    run("tar", "-xf", str(agreed.bundle), "-C", str(out))
    root = out / "dushanbe-2017"
    readme = (root / "README.txt").read_text()
    (attachment,) = json.loads((root / "manifest.json").read_text())["attachments"]
    lines = [line for step in (1, 2, 3, 5, 6) for line in _readme_commands(readme, step)]
    script = (
        "\n".join(lines)
        .replace("approvals/BLR/S.", "approvals/BLR/export-law.")
        .replace("organisation-identity.txt", str(agreed.identity))
        .replace("-o annex.pdf", f"-o {tmp_path / 'annex.pdf'}")
        .replace("sha256sum annex.pdf", f"sha256sum {tmp_path / 'annex.pdf'}")
        .replace("attachments/BLR/S/<file>.age", attachment["file"])
    )
    assert not re.search(r"<[a-z]", script), script  # every placeholder is put in
    # No input: a command cut in two by a lost line continuation fails instead of waiting.
    output = run("bash", "-euo", "pipefail", "-c", script, cwd=out, stdin=b"")
    assert output.count("Good") == 3, output
    assert "SHA256SUMS: FAILED" not in output
    assert (tmp_path / "annex.pdf").read_bytes() == ANNEX
