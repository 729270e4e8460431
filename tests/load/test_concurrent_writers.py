"""Four gunicorn workers, eight writers racing on the same documents and eight readers, 30 s.

Checks: no 5xx; no lost update (every acknowledged version is in the history exactly once, on
top of the base it was written from; history linear); every 409 names a real newer version;
`peerlex-server fsck` clean afterwards. Runs on the database under test (SQLite or PostgreSQL).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.json_http import Http
from tests.support.live_server import serving, stop
from tests.support.postgres import POSTGRES_SERVER, recreate_postgres_database

SECONDS = float(os.environ.get("PEERLEX_LOAD_SECONDS", "30"))
WRITERS = 8
READERS = 8
DOCUMENTS = ("export-law", "control-list")
REVIEW = "load-2017"
PASSWORD = "load test password 2017"
SHARE_EVERY = 5
USERS = {
    "expert@blr.example": ("BLR", "expert"),
    "expert@kgz.example": ("KGZ", "expert"),
    "organiser@unrcpd.example": ("UNRCPD", "organiser"),
}
COMMENTED = "Экспорт осуществляется на основании лицензии"


def text_of(writer: int, edit: int) -> str:
    return (
        "# Закон об экспортном контроле\n\n"
        "Статья 1. Сфера применения\n\n"
        f"Настоящий Закон (редакция {writer}-{edit}) регулирует экспорт товаров.\n\n"
        "Статья 2. Лицензирование\n\n"
        f"(1) {COMMENTED}.\n\n"
        f"(2) Срок рассмотрения заявления: {edit % 30 + 1} дней (writer {writer} edit {edit}).\n"
    )


@dataclass
class Outcome:
    """What one client process saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # writers: (slug, base, new, writer, edit) per acknowledged version; (slug, base, head) per 409
    acknowledged: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)


def client(
    role: str,
    port: int,
    token: str,
    number: int,
    heads: dict[str, str],
    ready: Any,
    results: Any,
) -> None:
    """One client process: wait until all are up, then write or read for SECONDS."""
    ready.wait(300)
    until = time.time() + SECONDS
    try:
        with Http(port, token) as api:
            if role == "writer":
                seen = write(api, number, heads, until)
            else:
                seen = read(api, number, until)
    except Exception as exc:  # reported to the test, which fails on it
        seen = Outcome(errors=[f"{role} {number} crashed: {exc!r}"])
    results.put((role, seen))


def write(api: Http, number: int, heads: dict[str, str], until: float) -> Outcome:
    seen = Outcome()
    bases = dict(heads)
    rng = random.Random(number)
    edit = 0
    while time.time() < until:
        slug = rng.choice(DOCUMENTS)
        edit += 1
        body = {"content": text_of(number, edit), "message": f"edit {edit}", "base": bases[slug]}
        status, answer = api.call("PUT", f"/api/v1/parties/BLR/documents/{slug}", body)
        seen.statuses[status] += 1
        if status == 200:
            new = answer["version"]["commit"]
            seen.acknowledged.append((slug, bases[slug], new, number, edit))
            bases[slug] = new
            if len(seen.acknowledged) % SHARE_EVERY == 0:
                share = {"party": "BLR", "slug": slug, "version": new}
                shared, answer = api.call("POST", f"/api/v1/reviews/{REVIEW}/shares", share)
                seen.statuses[shared] += 1
                if shared not in (200, 201):
                    seen.errors.append(f"share: {shared} {answer!r:.300}")
        elif status == 409 and answer.get("type", "").endswith("stale-version"):
            seen.conflicts.append((slug, bases[slug], answer["head"]))
            bases[slug] = answer["head"]
        else:
            seen.errors.append(f"PUT {slug}: {status} {answer!r:.300}")
    return seen


def read(api: Http, number: int, until: float) -> Outcome:
    seen = Outcome()
    rng = random.Random(1000 + number)
    rounds = 0

    def get(path: str) -> Any:
        status, answer = api.call("GET", path)
        seen.statuses[status] += 1
        if status != 200:
            seen.errors.append(f"GET {path}: {status} {answer!r:.300}")
            return None
        return answer

    while time.time() < until:
        rounds += 1
        slug = rng.choice(DOCUMENTS)
        document = f"/api/v1/parties/BLR/documents/{slug}"
        shares = get(f"/api/v1/reviews/{REVIEW}/shares") or []
        shared = [s["version"] for s in shares if s["slug"] == slug]
        head = get(document)
        if not shared or head is None:
            continue
        old = rng.choice(shared)
        get(f"{document}/diff?from={old}&to={head['version']['commit']}&format=json")
        get(f"/api/v1/reviews/{REVIEW}/comments?party=BLR&slug={slug}&version={rng.choice(shared)}")
        if rounds % 20 == 0:
            get(f"{document}/versions")
    return seen


@dataclass
class Server:
    port: int
    data: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`peerlex-server run --workers 4` on a new data directory and the database under test."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
    # The organiser signs in with a password alone here.
    env.update(PEERLEX_DATA=str(data), PEERLEX_SCRYPT_N="1024", PEERLEX_REQUIRE_MFA="none")
    if POSTGRES_SERVER:
        env["PEERLEX_DATABASE_URL"] = recreate_postgres_database("peerlex_load")
    cli(env, "init")
    for code, kind in (("BLR", "state"), ("KGZ", "state"), ("UNRCPD", "organisation")):
        cli(env, "party", "add", code, "--name", f"Party {code}", "--kind", kind)
    for email, (party, role) in USERS.items():
        cli(env, "user", "add", email, "--party", party, "--role", role, stdin=PASSWORD + "\n")
    with serving(env, tmp_path / "server.log", "--workers", "4") as (port, process):
        yield Server(port, data, env, process)


def token(port: int, email: str) -> str:
    with Http(port) as api:
        status, answer = api.call(
            "POST", "/api/v1/auth/tokens", {"email": email, "password": PASSWORD}
        )
    assert status == 201, answer
    found: str = answer["token"]
    return found


def seed(port: int, tokens: dict[str, str]) -> dict[str, str]:
    """The review, a first version of each document shared into it, a comment on each."""
    with (
        Http(port, tokens["organiser@unrcpd.example"]) as organiser,
        Http(port, tokens["expert@blr.example"]) as owner,
        Http(port, tokens["expert@kgz.example"]) as peer,
    ):
        return seed_with(organiser, owner, peer)


def seed_with(organiser: Http, owner: Http, peer: Http) -> dict[str, str]:
    review = {"slug": REVIEW, "title": "Load 2017", "states": ["BLR", "KGZ"]}
    assert organiser.call("POST", "/api/v1/reviews", review)[0] == 201
    heads = {}
    for slug in DOCUMENTS:
        status, answer = owner.call(
            "PUT",
            f"/api/v1/parties/BLR/documents/{slug}",
            {"content": text_of(0, 0), "message": "first", "title": slug},
        )
        assert status == 201, answer
        heads[slug] = answer["version"]["commit"]
        share = {"party": "BLR", "slug": slug, "version": heads[slug]}
        assert owner.call("POST", f"/api/v1/reviews/{REVIEW}/shares", share)[0] == 201
        comment = {**share, "quote": COMMENTED, "body": "Which authority?"}
        status, answer = peer.call("POST", f"/api/v1/reviews/{REVIEW}/comments", comment)
        assert status == 201, answer
    return heads


def git(data: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(data / "repos" / "BLR.git"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_writers_and_readers_on_four_workers(server: Server) -> None:
    tokens = {email: token(server.port, email) for email in USERS}
    heads = seed(server.port, tokens)
    spawn = multiprocessing.get_context("spawn")
    ready, results = spawn.Barrier(WRITERS + READERS + 1), spawn.Queue()
    clients = [
        spawn.Process(
            target=client,
            args=(role, server.port, tokens[email], n, heads, ready, results),
        )
        for role, email, count in (
            ("writer", "expert@blr.example", WRITERS),
            ("reader", "expert@kgz.example", READERS),
        )
        for n in range(count)
    ]
    for process in clients:
        process.start()
    ready.wait(300)
    started = time.time()
    outcomes = [results.get(timeout=SECONDS + 300) for _ in clients]
    for process in clients:
        process.join(30)
    writers = [seen for role, seen in outcomes if role == "writer"]
    readers = [seen for role, seen in outcomes if role == "reader"]
    ran = time.time() - started

    statuses = sum((o.statuses for o in writers + readers), Counter[int]())
    errors = [e for o in writers + readers for e in o.errors]
    assert not [s for s in statuses if s >= 500], (statuses, errors[:10])
    assert errors == [], errors[:10]
    acknowledged = [a for o in writers for a in o.acknowledged]
    conflicts = [c for o in writers for c in o.conflicts]
    assert len(acknowledged) >= WRITERS, statuses  # every writer got through at times
    assert sum(statuses[s] for s in statuses if s == 200) > len(acknowledged)  # readers read

    history: dict[str, list[str]] = {}
    for slug in DOCUMENTS:
        with Http(server.port, tokens["expert@blr.example"]) as owner:
            status, versions = owner.call("GET", f"/api/v1/parties/BLR/documents/{slug}/versions")
        assert status == 200
        history[slug] = [v["commit"] for v in versions]  # newest first
        assert len(set(history[slug])) == len(history[slug]), "a version is listed twice"
        assert history[slug][-1] == heads[slug]
        made = [a for a in acknowledged if a[0] == slug]
        # Nothing in the history that nobody was told about, nothing told that is not there.
        assert len(made) == len(history[slug]) - 1
    position = {slug: {c: i for i, c in enumerate(history[slug])} for slug in DOCUMENTS}
    for slug, base, new, _writer, _edit in acknowledged:
        at = position[slug][new]
        assert history[slug][at + 1] == base, f"{new} is not on top of its base {base}"
    for slug, base, head in conflicts:
        assert head in position[slug], f"409 named {head}, not a version of {slug}"
        assert position[slug][head] < position[slug][base], f"409 head {head} is not newer"

    # The repository: one linear history per document holding exactly its versions.
    stop(server.process)
    for slug in DOCUMENTS:
        lines = git(server.data, "rev-list", "--parents", f"refs/documents/{slug}").splitlines()
        assert all(len(line.split()) <= 2 for line in lines), "a merge in the history"
        assert [line.split()[0] for line in lines] == history[slug]
    query = "".join(f"{new}:documents/{slug}.md\n" for slug, _, new, _, _ in acknowledged)
    blobs = git(server.data, "cat-file", "--batch", stdin=query)
    for _slug, _base, _new, number, edit in acknowledged:
        assert f"(writer {number} edit {edit})" in blobs
    assert "fsck: no problems found" in cli(server.env, "fsck")
    print(
        f"\n{len(acknowledged)} versions acknowledged, {len(conflicts)} conflicts (409), "
        f"statuses {dict(sorted(statuses.items()))} in {ran:.1f} s"
    )
