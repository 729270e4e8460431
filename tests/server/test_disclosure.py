"""Nothing given to a party discloses a version that was not shared with it.

Canary strings go into everything a State keeps to itself: an unshared document (its text,
title, slug and commit message), an attachment of it, and an intermediate version of a shared
document with its commit message. After a whole review, no byte of the final bundle (its git
objects decompressed) and no answer to a peer, an observer or the organiser carries any of them.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from tests.bundle_fixtures import agree_and_bundle
from tests.server.review_fixtures import LAW_V1, ReviewWorld
from tests.server.web.pages import WebWorld

SECRET_SLUG = "canary-slug-c0ffee"
# ASCII, so that a JSON answer's \u escapes cannot hide one from the search.
CANARIES = {
    "unshared text": "canary-text-41d7",
    "unshared title": "Canary title 9b3e",
    "unshared slug": SECRET_SLUG,
    "unshared message": "canary-message-5d1e",
    "unshared attachment name": "canary-annex-8b20",
    "unshared attachment body": "canary-annex-body-77a1",
    "intermediate text": "canary-intermediate-2a9c",
    "intermediate message": "canary-intermediate-msg-e4f0",
}


def _keep_secrets(world: ReviewWorld) -> None:
    """BLR writes what it never shares: a whole document, with an attachment."""
    own = world["own"]
    created = own.put(
        f"/api/v1/parties/BLR/documents/{SECRET_SLUG}",
        json={
            "content": f"# Проект\n\nСтатья 1. {CANARIES['unshared text']}\n",
            "title": CANARIES["unshared title"],
            "message": CANARIES["unshared message"],
        },
    )
    assert created.status_code == 201, created.json
    attached = own.post(
        f"/api/v1/parties/BLR/documents/{SECRET_SLUG}/attachments",
        query_string={"name": f"{CANARIES['unshared attachment name']}.txt"},
        data=CANARIES["unshared attachment body"].encode(),
        content_type="text/plain",
    )
    assert attached.status_code == 201, attached.json


def _push_intermediate(world: ReviewWorld) -> None:
    """Version 2 of the shared law, never shared itself, with a canary in text and message."""
    original = world.push
    intermediate = LAW_V1.replace(
        "двойного назначения.", f"двойного назначения. {CANARIES['intermediate text']}"
    )

    def push(content: str) -> str:
        if len(world.versions) != 1:
            return original(content)
        response = world["own"].put(
            "/api/v1/parties/BLR/documents/export-law",
            json={
                "content": intermediate,
                "message": CANARIES["intermediate message"],
                "base": world.versions[-1],
            },
        )
        assert response.status_code == 200, response.json
        world.versions.append(response.json["version"]["commit"])
        # The fixture's own version 2 follows on top of the canary version.
        return original(content)

    world.push = push  # type: ignore[method-assign]


def _leaks(data: bytes) -> list[str]:
    return [name for name, canary in CANARIES.items() if canary.encode() in data]


def _git_objects(member: str, data: bytes) -> Iterator[bytes]:
    """Every git object a bundle member holds, decompressed: loose objects, packs, bundles."""
    if data[:1] == b"x":  # a zlib stream, as every loose object is
        try:
            yield zlib.decompress(data)
        except zlib.error:
            pass
    if not member.endswith((".pack", ".bundle")):
        return
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "scan.git"
        subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
        source = Path(tmp) / Path(member).name
        source.write_bytes(data)
        if member.endswith(".bundle"):
            command = ["bundle", "unbundle", str(source)]
        else:
            command = ["index-pack", "--stdin"]
        subprocess.run(
            ["git", f"--git-dir={repo}", *command],
            input=None if member.endswith(".bundle") else data,
            check=True,
            capture_output=True,
        )
        every = subprocess.run(
            ["git", f"--git-dir={repo}", "cat-file", "--batch-all-objects", "--batch"],
            check=True,
            capture_output=True,
        )
        yield every.stdout


def _answers(
    app: Flask, world: ReviewWorld, role: str, bundle: bytes
) -> Iterator[tuple[str, bytes]]:
    """Every API answer and page the role can reach in the review, by URL."""
    api = world[role]
    docs = "/api/v1/parties/BLR/documents"
    law = f"{docs}/export-law"
    urls = [
        "/api/v1/me",
        "/api/v1/parties",
        "/api/v1/allowed_signers",
        "/api/v1/reviews",
        world.url(),
        world.url("/shares"),
        world.url("/comments"),
        world.url("/approvals"),
        docs,
        law,
        f"{law}/versions",
        f"{law}/attachments",
        "/api/v1/parties/KGZ/documents",
        "/api/v1/audit",
    ]
    # Probed by everyone, the outsider included: the versions that were shared.
    listing = world["organiser"].get(world.url("/shares")).json
    shared = [s["version"] for s in listing if s["slug"] == "export-law"]
    for version in shared:
        urls.append(f"{law}?version={version}")
        urls.append(f"{law}/attachments?version={version}")
    for old, new in zip(shared, shared[1:], strict=False):
        for form in ("json", "unified", "html"):
            urls.append(f"{law}/diff?from={old}&to={new}&format={form}")
    for url in urls:
        response = api.get(url)
        yield url, response.data
    listed = api.get(f"{law}/attachments")
    for attachment in listed.json if listed.status_code == 200 else []:
        url = f"{law}/attachments/{attachment['id']}"
        yield url, api.get(url).data
    page = WebWorld(app, world).page(role)
    for url in [
        "/reviews",
        f"/reviews/{world.review}",
        f"/reviews/{world.review}/documents/BLR/export-law",
        f"/reviews/{world.review}/documents/BLR/export-law/redline",
    ]:
        yield url, page.get(url).data
    yield "bundle", bundle


def test_nothing_unshared_reaches_the_bundle_or_another_party(
    app: Flask, review_world: ReviewWorld, tmp_path: Path
) -> None:
    _keep_secrets(review_world)
    _push_intermediate(review_world)
    agreed = agree_and_bundle(app, review_world, tmp_path)
    # The owner does see them: the canaries are real, and findable where they are.
    own = review_world["own"].get(f"/api/v1/parties/BLR/documents/{SECRET_SLUG}")
    assert {"unshared text", "unshared title", "unshared slug"} <= set(_leaks(own.data))
    history = review_world["own"].get("/api/v1/parties/BLR/documents/export-law/versions")
    assert "intermediate message" in _leaks(history.data)

    bundle = agreed.bundle.read_bytes()
    for role in ("peer", "peer_head", "third", "organiser", "observer", "outsider"):
        for url, body in _answers(app, review_world, role, bundle if role == "organiser" else b""):
            assert not _leaks(body), f"{role} got {_leaks(body)} from {url}"

    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        for member in tar.getmembers():
            assert not _leaks(member.name.encode()), member.name
            extracted = tar.extractfile(member)
            if extracted is None:
                continue
            data = extracted.read()
            assert not _leaks(data), f"{member.name} holds {_leaks(data)}"
            for objects in _git_objects(member.name, data):
                assert not _leaks(objects), f"{member.name} holds {_leaks(objects)} in git"
