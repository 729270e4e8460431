"""Final bundle: build and offline verification against git bundle + tar of the same data.

3 States x 20 documents x 50 versions, plus 5 attachments of 10 MB. Prints medians and the
ratios build/baseline and verify/baseline (targets: both <= 2). Not a test.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from clients.verify import verify_bundle
from keys.age import generate_x25519_identity, recipient_string
from keys.master import create_master_key
from repo_store.commits import Identity
from server.app import create_app
from server.config import Config
from server.services.context import services

# The repository root, for the helpers the benchmarks share with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.accounts import add_party, add_user

STATES = ("BLR", "KGZ", "TJK")
PASSWORD = "bench password 12345"  # noqa: S105 - a throwaway bench account


class As:
    def __init__(self, client: FlaskClient, email: str) -> None:
        response = client.post("/api/v1/auth/tokens", json={"email": email, "password": PASSWORD})
        body = response.json
        assert body is not None, response.data[:300]
        self.client, self.headers = client, {"Authorization": f"Bearer {body['token']}"}

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.client.open(url, method=method, headers=self.headers, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.data[:300]!r}")
        return response


def seed(data: Path, docs: int, versions: int, attachments: int, attachment_mb: int) -> Flask:
    data.mkdir(mode=0o700)
    create_master_key(data / "master.key")
    app = create_app(
        Config(data_dir=data, scrypt_n=2**10, secure_cookies=False, require_mfa="none")
    )
    for code, kind in [*((s, "state") for s in STATES), ("UNRCPD", "organisation")]:
        add_party(app, code, kind)
    with app.app_context():
        found = services()
        author = Identity("Bench", "bench@example.org")
        for code in STATES:
            for doc in range(docs):
                base = None
                for revision in range(versions):
                    text = f"# Document {doc}\n\nСтатья 1.\n\nРедакция {revision} для {code}.\n"
                    base, _ = found.store.put_document(
                        code,
                        f"doc-{doc}",
                        text,
                        {"title": f"Doc {doc}"},
                        base=base,
                        author=author,
                        committer_name=code,
                        message=f"v{revision}",
                    )
    for code in STATES:
        add_user(app, f"head@{code.lower()}.example", code, "head", PASSWORD)
    add_user(app, "organiser@unrcpd.example", "UNRCPD", "organiser", PASSWORD)
    client = app.test_client()
    organiser = As(client, "organiser@unrcpd.example")
    organiser(
        "POST", "/api/v1/reviews", json={"slug": "bench", "title": "Bench", "states": list(STATES)}
    )
    organiser(
        "POST",
        "/api/v1/parties/UNRCPD/recipients",
        json={"recipient": recipient_string(generate_x25519_identity().public_key())},
    )
    heads = {code: As(client, f"head@{code.lower()}.example") for code in STATES}
    blob = bytes(range(256)) * 4096 * attachment_mb
    for n in range(attachments):
        heads[STATES[n % 3]](
            "POST",
            f"/api/v1/parties/{STATES[n % 3]}/documents/doc-{n}/attachments?name=annex.bin",
            data=io.BytesIO(blob),
        )
    shared: dict[tuple[str, str], str] = {}
    for code in STATES:
        for doc in range(docs):
            head = heads[code]("GET", f"/api/v1/parties/{code}/documents/doc-{doc}").json
            version = head["version"]["commit"]
            heads[code](
                "POST",
                "/api/v1/reviews/bench/shares",
                json={"party": code, "slug": f"doc-{doc}", "version": version},
            )
            shared[(code, f"doc-{doc}")] = version
    organiser("PATCH", "/api/v1/reviews/bench", json={"state": "agreement"})
    for (code, slug), version in shared.items():
        heads[code](
            "POST",
            "/api/v1/reviews/bench/approvals",
            json={"party": code, "slug": slug, "version": version},
        )
    app.extensions["bench.organiser"] = organiser
    return app


def timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--attachments", type=int, default=5)
    parser.add_argument("--attachment-mb", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peerlex-bench-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        app = seed(work / "data", args.docs, args.versions, args.attachments, args.attachment_mb)
        print(f"seeded in {time.perf_counter() - started:.1f} s")
        organiser = app.extensions["bench.organiser"]
        bundle = work / "bench.tar"

        def build() -> None:
            organiser("POST", "/api/v1/reviews/bench/bundle")

        def fetch() -> None:
            response = organiser("GET", "/api/v1/reviews/bench/bundle")
            bundle.write_bytes(response.data)
            response.close()

        def verify() -> None:
            failed = [c for c in verify_bundle(bundle) if not c.ok]
            if failed:
                raise RuntimeError(failed[0].line())

        repos = app.extensions["peerlex.config"].repos_dir
        blobs = app.extensions["peerlex.config"].blobs_dir

        def baseline() -> None:
            out = work / "baseline"
            out.mkdir(exist_ok=True)
            for code in STATES:
                subprocess.run(
                    [
                        "git",
                        f"--git-dir={repos / f'{code}.git'}",
                        "bundle",
                        "create",
                        "--quiet",
                        str(out / f"{code}.bundle"),
                        "--all",
                    ],
                    check=True,
                )
            subprocess.run(
                [
                    "tar",
                    "-cf",
                    str(work / "baseline.tar"),
                    "-C",
                    str(work),
                    "baseline",
                    "-C",
                    str(blobs.parent),
                    "blobs",
                ],
                check=True,
            )

        builds = [timed(build) for _ in range(args.repeat)]
        fetch()
        verifies = [timed(verify) for _ in range(args.repeat)]
        baselines = [timed(baseline) for _ in range(args.repeat)]
    b, v, base = (statistics.median(x) for x in (builds, verifies, baselines))
    print(
        f"bundle of {len(STATES)} States x {args.docs} documents x {args.versions} versions, "
        f"{args.attachments} attachments of {args.attachment_mb} MB; median of {args.repeat}"
    )
    print(f"  baseline: git bundle create --all x3 + tar   {base:7.3f} s")
    print(
        f"  build (POST /bundle, in-process)           {b:7.3f} s   ratio {b / base:.2f} "
        "(target <= 2)"
    )
    print(
        f"  verify (peerlex verify, offline)           {v:7.3f} s   ratio {v / base:.2f} "
        "(target <= 2)"
    )


if __name__ == "__main__":
    main()
