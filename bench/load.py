"""Load on localhost: 50 clients (40 readers, 10 writers) on 1 and 4 workers, SQLite and PostgreSQL.

Readers fetch version lists, diffs and re-anchored comments; writers save versions with a base
(a 409 is answered with the server's head and retried). Each run stops by itself after
--seconds or --max-requests. Prints throughput and p50/p95/p99 latency per run, and the ratios
4 workers / 1 worker and PostgreSQL / SQLite (targets: no errors; p99 < 1 s on 4 workers).
PostgreSQL: PEERLEX_TEST_DATABASE_URL, or a throwaway cluster from scripts/with-postgres.
Not a test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The repository root, for the helpers the benchmarks share with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.json_http import Http
from tests.support.ports import free_port
from tests.support.postgres import recreate_postgres_database

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 12345"  # noqa: S105 - a throwaway bench account
PROCESSES = 5  # client processes, each with READERS_EACH + WRITERS_EACH threads
READERS_EACH = 8
WRITERS_EACH = 2
DOCUMENTS = [f"law-{n}" for n in range(5)]
SHARED_VERSIONS = 4
REVIEW = "bench-2017"
ARTICLE = (
    "Статья {n}. Лицензирование экспорта\n\n"
    "(1) Экспорт товаров, включённых в национальный контрольный список, осуществляется на "
    "основании лицензии, выдаваемой уполномоченным органом в течение {days} дней.\n\n"
)
QUOTE = "выдаваемой уполномоченным органом"


def content(edit: int) -> str:
    articles = "".join(ARTICLE.format(n=n, days=10 + (n * edit) % 50) for n in range(1, 25))
    return f"# Закон об экспортном контроле\n\nРедакция {edit}\n\n{articles}"


@dataclass
class Tally:
    """Latencies (seconds) and outcomes seen by one client process."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        self.conflicts += other.conflicts
        self.errors.extend(other.errors)

    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())


class Budget:
    """Requests left in this process; shared by its threads."""

    def __init__(self, requests: int, until: float) -> None:
        self.left, self.until = requests, until
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.until:
                return False
            self.left -= 1
            return True


def timed(api: Http, tally: Tally, kind: str, method: str, path: str, body: object = None) -> Any:
    start = time.perf_counter()
    status, answer = api.call(method, path, body)
    tally.add(kind, time.perf_counter() - start)
    if status == 409 and kind == "write":
        tally.conflicts += 1
    elif status >= 300:
        tally.errors.append(f"{method} {path}: {status} {answer!r:.200}")
    return status, answer


def read_loop(
    port: int, token: str, shared: dict[str, list[str]], budget: Budget, seed: int
) -> Tally:
    api, tally, rng = Http(port, token), Tally(), random.Random(seed)
    try:
        while budget.take():
            slug = rng.choice(DOCUMENTS)
            url = f"/api/v1/parties/BLR/documents/{slug}"
            kind = rng.choice(("versions", "diff", "comments"))
            if kind == "versions":
                timed(api, tally, kind, "GET", f"{url}/versions")
            elif kind == "diff":
                old, new = sorted(rng.sample(shared[slug], 2), key=shared[slug].index)
                timed(api, tally, kind, "GET", f"{url}/diff?from={old}&to={new}&format=json")
            else:
                query = f"party=BLR&slug={slug}&version={rng.choice(shared[slug])}"
                timed(api, tally, kind, "GET", f"/api/v1/reviews/{REVIEW}/comments?{query}")
    finally:
        api.close()
    return tally


def write_loop(port: int, token: str, heads: dict[str, str], budget: Budget, number: int) -> Tally:
    api, tally = Http(port, token), Tally()
    slug = DOCUMENTS[number % len(DOCUMENTS)]
    base, edit = heads[slug], 1000 * number
    try:
        while budget.take():
            edit += 1
            body = {"content": content(edit), "message": f"edit {edit}", "base": base}
            status, answer = timed(
                api, tally, "write", "PUT", f"/api/v1/parties/BLR/documents/{slug}", body
            )
            if status == 200:
                base = answer["version"]["commit"]
            elif status == 409 and "head" in answer:
                base = answer["head"]
    finally:
        api.close()
    return tally


def client_process(
    port: int,
    tokens: dict[str, str],
    heads: dict[str, str],
    shared: dict[str, list[str]],
    number: int,
    limits: tuple[float, int],
    ready: Any,
    results: Any,
) -> None:
    """READERS_EACH reader and WRITERS_EACH writer threads, started together with the others."""
    seconds, requests = limits
    ready.wait(300)
    budget = Budget(requests, time.monotonic() + seconds)
    tallies: list[Tally] = []

    def run(job: Any, *args: Any) -> None:
        try:
            tallies.append(job(*args))
        except Exception as exc:  # counted as an error of the run
            tallies.append(Tally(errors=[f"client crashed: {exc!r}"]))

    threads = [
        threading.Thread(
            target=run, args=(read_loop, port, tokens["reader"], shared, budget, number * 100 + n)
        )
        for n in range(READERS_EACH)
    ] + [
        threading.Thread(
            target=run,
            args=(write_loop, port, tokens["writer"], heads, budget, number * WRITERS_EACH + n),
        )
        for n in range(WRITERS_EACH)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    results.put(total)


class Server:
    """A data directory, its database, and `peerlex-server run --workers N`."""

    def __init__(self, work: Path, workers: int, database_url: str | None) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLEX_")}
        self.env.update(
            PEERLEX_DATA=str(work / "data"), PEERLEX_SCRYPT_N="1024", PEERLEX_REQUIRE_MFA="none"
        )
        if database_url:
            self.env["PEERLEX_DATABASE_URL"] = database_url
        self.admin("init")
        for code, kind in (("BLR", "state"), ("KGZ", "state"), ("UNRCPD", "organisation")):
            self.admin("party", "add", code, "--name", f"Party {code}", "--kind", kind)
        for email, party, role in (
            ("writer@blr.example", "BLR", "expert"),
            ("reader@kgz.example", "KGZ", "expert"),
            ("organiser@unrcpd.example", "UNRCPD", "organiser"),
        ):
            self.admin(
                "user", "add", email, "--party", party, "--role", role, stdin=PASSWORD + "\n"
            )
        self.port = free_port()
        self.log = (work / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "run", "--port", str(self.port)]
            + ["--workers", str(workers)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = Http(self.port)
                up = probe.call("GET", "/api/v1/healthz")[0] == 200
                probe.close()
                if up:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the server did not start; see {work / 'server.log'}")
            time.sleep(0.2)

    def admin(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run(
            [sys.executable, "-m", "server.cli", *args],
            env=self.env,
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
            cwd=ROOT,
        )

    def token(self, email: str) -> str:
        api = Http(self.port)
        status, answer = api.call(
            "POST", "/api/v1/auth/tokens", {"email": email, "password": PASSWORD}
        )
        api.close()
        if status != 201:
            raise RuntimeError(f"sign-in failed: {status} {answer}")
        return str(answer["token"])

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        self.log.close()


def must(result: tuple[int, Any], *expected: int) -> Any:
    status, answer = result
    if status not in expected:
        raise RuntimeError(f"seeding failed: {status} {answer!r:.300}")
    return answer


def seed(server: Server, tokens: dict[str, str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Documents with SHARED_VERSIONS versions each, all shared, with a comment on each."""
    organiser = Http(server.port, server.token("organiser@unrcpd.example"))
    writer, reader = Http(server.port, tokens["writer"]), Http(server.port, tokens["reader"])
    review = {"slug": REVIEW, "title": "Bench 2017", "states": ["BLR", "KGZ"]}
    must(organiser.call("POST", "/api/v1/reviews", review), 201)
    heads: dict[str, str] = {}
    shared: dict[str, list[str]] = {}
    for slug in DOCUMENTS:
        shared[slug] = []
        for edit in range(SHARED_VERSIONS):
            body: dict[str, Any] = {"content": content(edit), "message": f"draft {edit}"}
            if slug in heads:
                body["base"] = heads[slug]
            saved = must(
                writer.call("PUT", f"/api/v1/parties/BLR/documents/{slug}", body), 200, 201
            )
            heads[slug] = saved["version"]["commit"]
            share = {"party": "BLR", "slug": slug, "version": heads[slug]}
            must(writer.call("POST", f"/api/v1/reviews/{REVIEW}/shares", share), 201)
            comment = {**share, "quote": QUOTE, "body": f"Which authority? ({edit})"}
            must(reader.call("POST", f"/api/v1/reviews/{REVIEW}/comments", comment), 201)
            shared[slug].append(heads[slug])
    for api in (organiser, writer, reader):
        api.close()
    return heads, shared


@dataclass
class Result:
    name: str
    seconds: float
    tally: Tally

    def percentile(self, q: int, kind: str | None = None) -> float:
        values = (
            self.tally.latencies.get(kind, [])
            if kind
            else [v for vs in self.tally.latencies.values() for v in vs]
        )
        if len(values) < 2:
            return values[0] if values else 0.0
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    @property
    def throughput(self) -> float:
        return self.tally.count() / self.seconds


def run_load(
    name: str, workers: int, database_url: str | None, seconds: float, requests: int
) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), workers, database_url)
        try:
            tokens = {
                "writer": server.token("writer@blr.example"),
                "reader": server.token("reader@kgz.example"),
            }
            heads, shared = seed(server, tokens)
            spawn = multiprocessing.get_context("spawn")
            ready, results = spawn.Barrier(PROCESSES + 1), spawn.Queue()
            limits = (seconds, requests // PROCESSES)
            clients = [
                spawn.Process(
                    target=client_process,
                    args=(server.port, tokens, heads, shared, n, limits, ready, results),
                )
                for n in range(PROCESSES)
            ]
            for process in clients:
                process.start()
            ready.wait(300)
            start = time.monotonic()
            total = Tally()
            for _ in clients:
                total.merge(results.get(timeout=seconds + 300))
            elapsed = time.monotonic() - start
            for process in clients:
                process.join(30)
        finally:
            server.stop()
    return Result(name, elapsed, total)


def report(result: Result) -> None:
    tally = result.tally
    print(
        f"{result.name:<22} {tally.count():>6} req in {result.seconds:5.1f} s "
        f"{result.throughput:7.1f} req/s   p50 {result.percentile(50) * 1000:6.0f} ms  "
        f"p95 {result.percentile(95) * 1000:6.0f} ms  p99 {result.percentile(99) * 1000:6.0f} ms"
        f"   errors {len(tally.errors)}  409s {tally.conflicts}"
    )
    kinds = ", ".join(
        f"{kind} {len(tally.latencies[kind])} (p99 {result.percentile(99, kind) * 1000:.0f} ms)"
        for kind in sorted(tally.latencies)
    )
    print(f"{'':<22} {kinds}")
    for error in tally.errors[:5]:
        print(f"{'':<22} ! {error}")


def ratio_line(label: str, a: Result, b: Result) -> None:
    print(
        f"  {label:<34} throughput x{a.throughput / b.throughput:5.2f}   "
        f"p50 x{a.percentile(50) / b.percentile(50):5.2f}   "
        f"p99 x{a.percentile(99) / b.percentile(99):5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20, help="length of each run")
    parser.add_argument("--max-requests", type=int, default=30000, help="requests per run")
    parser.add_argument("--workers", type=int, nargs=2, default=[1, 4])
    args = parser.parse_args()
    postgres = os.environ.get("PEERLEX_TEST_DATABASE_URL")
    if not postgres:
        # A throwaway PostgreSQL cluster for the PostgreSQL runs, removed afterwards.
        os.execv(  # noqa: S606 - our own script, given a fixed argument list
            str(ROOT / "scripts" / "with-postgres"),
            [str(ROOT / "scripts" / "with-postgres"), sys.executable, *sys.argv],
        )
    few, many = args.workers
    clients = PROCESSES * (READERS_EACH + WRITERS_EACH)
    print(
        f"{clients} clients ({PROCESSES * READERS_EACH} readers, {PROCESSES * WRITERS_EACH} "
        f"writers), up to {args.seconds:.0f} s or {args.max_requests} requests per run, "
        f"{os.cpu_count()} CPUs"
    )
    results: dict[tuple[str, int], Result] = {}
    for database in ("SQLite", "PostgreSQL"):
        for workers in (few, many):
            url = (
                recreate_postgres_database(f"peerlex_bench_{workers}", postgres)
                if database == "PostgreSQL"
                else None
            )
            result = run_load(
                f"{database}, {workers} worker(s)", workers, url, args.seconds, args.max_requests
            )
            results[(database, workers)] = result
            report(result)
    print("ratios (a / b):")
    for database in ("SQLite", "PostgreSQL"):
        ratio_line(
            f"{database}: {many} workers / {few}",
            results[(database, many)],
            results[(database, few)],
        )
    for workers in (few, many):
        ratio_line(
            f"{workers} worker(s): PostgreSQL / SQLite",
            results[("PostgreSQL", workers)],
            results[("SQLite", workers)],
        )
    errors = sum(len(r.tally.errors) for r in results.values())
    worst = max(results[(db, many)].percentile(99) for db in ("SQLite", "PostgreSQL"))
    print(
        f"targets: errors {errors} (target 0); p99 with {many} workers {worst * 1000:.0f} ms "
        "(target < 1000 ms)"
    )


if __name__ == "__main__":
    main()
