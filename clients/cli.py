"""`peerlex`: the command line for experts and organisers (HTTP client and offline checks)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

import click

from clients.client import Client
from clients.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServerError,
    ServerUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from clients.models import Comment
from clients.profiles import (
    DEFAULT_PROFILE,
    Profile,
    ProfileError,
    delete_profile,
    load_profile,
    profiles_path,
    save_profile,
)
from clients.redline import render_redline
from clients.terminal import json_text, one_line, printable

# Exit codes; docs/cli.md lists them for scripts.
EXIT_OK = 0
EXIT_FAILED = 1  # a verification failed, or any other error
EXIT_USAGE = 2  # click's own code for a bad command line
EXIT_AUTH = 3  # not logged in, session expired or revoked, wrong password, not allowed
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_UNREACHABLE = 6
EXIT_INVALID = 7
EXIT_SIGNERS_UNCHECKED = 8  # a bundle is consistent, but its keys were not a trusted list

DEFAULT_SERVER = "http://127.0.0.1:8000"
PROGRESS_DELAY = 1.0  # seconds a transfer runs before its progress bar appears
STATE_OPTIONS = ("agreement", "closed")
COMMENT_STATUSES = ("open", "resolved", "accepted", "rejected")
ANCHOR_WORDS = {
    "current": "quote in place",
    "moved": "quote moved to another provision",
    "changed": "quote reworded; nearest match shown",
    "orphaned": "quote no longer found",
}

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """An error for the user: one line on stderr, and an exit code from the table above."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        # Server answers end up in these messages: shown escaped, they cannot act on a terminal.
        super().__init__(one_line(" ".join(message.split())))
        # click declares exit_code on the class; each failure carries its own.
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"peerlex: error: {self.format_message()}", err=True)


@dataclass
class State:
    """What every command shares: the profile it acts as."""

    profile: str

    def saved(self) -> Profile:
        profile = load_profile(self.profile)
        if profile is None:
            hint = "" if self.profile == DEFAULT_PROFILE else f"--profile {self.profile} "
            raise Failure(
                f"not logged in (profile {self.profile}); run: peerlex {hint}login --email EMAIL",
                EXIT_AUTH,
            )
        if profile.expired():
            raise Failure(
                f"the session of profile {self.profile} expired at {profile.expires_at}; "
                "log in again",
                EXIT_AUTH,
            )
        return profile

    def client(self) -> Client:
        profile = self.saved()
        return Client(profile.server, profile.token)


def failure_for(exc: ApiError, profile: str) -> Failure:
    """Say in one line what went wrong, with the exit code scripts can test."""
    if isinstance(exc, ServerUnavailable):
        return Failure(exc.detail, EXIT_UNREACHABLE)
    if isinstance(exc, Unauthorized):
        hint = "" if profile == DEFAULT_PROFILE else f"--profile {profile} "
        return Failure(
            f"the server did not accept the session of profile {profile} (expired, revoked or "
            f"unknown); log in again with: peerlex {hint}login --email EMAIL",
            EXIT_AUTH,
        )
    if isinstance(exc, TooManyRequests):
        wait = f" in {exc.retry_after} s" if exc.retry_after else " later"
        return Failure(f"refused for now: {exc.detail.split(';')[0]}; try again{wait}", EXIT_AUTH)
    if isinstance(exc, Forbidden):
        return Failure(f"not allowed: {exc.detail}", EXIT_AUTH)
    if isinstance(exc, NotFound):
        return Failure(f"not found: {exc.detail}", EXIT_NOT_FOUND)
    if isinstance(exc, Conflict):
        message = f"conflict: {exc.detail}"
        if exc.head:
            message += f" (current version {exc.head})"
        if exc.missing:
            waiting = ", ".join(f"{m['party']}/{m['slug']}" for m in exc.missing)
            message += f"; waiting for approval of: {waiting}"
        return Failure(message, EXIT_CONFLICT)
    if isinstance(exc, ValidationFailed | BadRequest | PayloadTooLarge):
        message = f"invalid input: {exc.detail}"
        if isinstance(exc, ValidationFailed) and exc.errors:
            fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(exc.errors.items()))
            message += f" ({fields})"
        return Failure(message, EXIT_INVALID)
    if isinstance(exc, ServerError):
        return Failure(f"the server failed ({exc.status} {exc.title}): {exc.detail}")
    return Failure(f"{exc.title}: {exc.detail}")


class PeerlexGroup(click.Group):
    """A click group that turns every error into one plain line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ApiError as exc:
            state = ctx.find_object(State)
            raise failure_for(exc, state.profile if state else DEFAULT_PROFILE) from None
        except ProfileError as exc:
            raise Failure(str(exc)) from None
        except UnicodeDecodeError as exc:
            raise Failure(f"not UTF-8 text: {exc.reason}", EXIT_INVALID) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failure(f"{where}{exc.strerror or exc}") from None
        except Exception as exc:
            if os.environ.get("PEERLEX_DEBUG"):
                raise
            raise Failure(f"unexpected error ({type(exc).__name__}): {exc}") from None


pass_state = click.make_pass_decorator(State)


def json_option(func: F) -> F:
    option = click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
    return option(func)


def write_text(text: str) -> None:
    """Print text exactly as it is when it goes to a file or pipe; made safe for a terminal."""
    out = sys.stdout
    if out.isatty():
        text = printable(text)
    out.write(text if text.endswith("\n") or not text else text + "\n")
    out.flush()


def echo_json(data: Any) -> None:
    click.echo(json_text(json.dumps(data, ensure_ascii=False, indent=2)))


def say(line: str) -> None:
    """Print one line built from server values: any control or bidi character in it escaped."""
    click.echo(one_line(line))


def short(sha: str | None) -> str:
    return (sha or "")[:12]


def table(rows: Sequence[Sequence[str]]) -> None:
    """Print rows in aligned columns (the last one left ragged)."""
    if not rows:
        return
    rows = [[one_line(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


class TransferProgress:
    """A progress bar on stderr that appears only once a transfer has run for about a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.done = 0
        self.bar: Any = None

    def __call__(self, count: int, total: int | None) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
            return
        if time.monotonic() - self.started < PROGRESS_DELAY or not sys.stderr.isatty():
            return
        self.bar = click.progressbar(length=total or self.done, label=self.label, file=sys.stderr)
        self.bar.__enter__()
        self.bar.update(self.done)

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, value, traceback)


def read_password() -> str:
    """From a hidden prompt, or the first line of stdin when it is not a terminal."""
    if sys.stdin.isatty():
        value: str = click.prompt("Password", hide_input=True)
        return value
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise Failure("no password on standard input", EXIT_INVALID)
    return line


@click.group(cls=PeerlexGroup)
@click.option(
    "--profile",
    envvar="PEERLEX_PROFILE",
    default=DEFAULT_PROFILE,
    show_default=True,
    help="Which saved login to act as (also PEERLEX_PROFILE).",
)
@click.version_option(package_name="peerlex")
@click.pass_context
def main(ctx: click.Context, profile: str) -> None:
    """Work with a peerlex server, and verify final bundles offline."""
    # Saved logins and downloaded attachments and bundles are the user's alone.
    os.umask(0o077)
    ctx.obj = State(profile)


# -- sessions ---------------------------------------------------------------------------------


@main.command()
@click.option(
    "--server",
    envvar="PEERLEX_SERVER",
    default=DEFAULT_SERVER,
    show_default=True,
    help="The server's address (also PEERLEX_SERVER).",
)
@click.option("--email", required=True, help="Your account's email address.")
@pass_state
def login(state: State, server: str, email: str) -> None:
    """Log in and keep an API token; the password is read from stdin when it is not a terminal."""
    try:
        client = Client(server)
    except ValueError as exc:
        raise Failure(str(exc), EXIT_INVALID) from None
    password = read_password()
    try:
        token = client.login(email, password)
    except Unauthorized:
        raise Failure("login refused: wrong email or password", EXIT_AUTH) from None
    previous = load_profile(state.profile)
    if previous is not None:
        try:  # the token this one replaces is of no more use to anyone
            Client(previous.server, previous.token, timeout=5).logout()
        except ApiError:
            pass
    path = save_profile(
        Profile(state.profile, server, email.strip().lower(), token["token"], token["expires_at"])
    )
    say(
        f"logged in to {server} as {email} (profile {state.profile}); "
        f"token saved in {path}, valid until {token['expires_at']}"
    )


@main.command()
@click.option(
    "--everywhere",
    is_flag=True,
    help="Also end every other session and token of this user (e.g. after losing a laptop).",
)
@pass_state
def logout(state: State, everywhere: bool) -> None:
    """Revoke the profile's token on the server and forget it."""
    profile = load_profile(state.profile)
    if profile is None:
        say(f"profile {state.profile} was not logged in")
        return
    client = Client(profile.server, profile.token)
    try:
        if everywhere:
            client.logout_everywhere()
        else:
            client.logout()
    except Unauthorized:
        if everywhere:  # without a valid session there is no one to speak for
            raise
        # expired or revoked already: nothing left to revoke
    delete_profile(state.profile)
    what = f"every session of {profile.email} ended" if everywhere else "logged out"
    say(f"{what} (profile {state.profile})")


@main.command()
@json_option
@pass_state
def whoami(state: State, as_json: bool) -> None:
    """Who the profile is logged in as, on which server, and in which parties."""
    profile = state.saved()
    me = Client(profile.server, profile.token).me()
    if as_json:
        echo_json({"profile": profile.name, "server": profile.server, **me})
        return
    roles = ", ".join(f"{m['role']} of {m['party']}" for m in me["memberships"])
    if me.get("is_admin"):
        roles = ", ".join(filter(None, ["admin", roles]))
    say(f"{me['email']} on {profile.server} (profile {profile.name}): {roles or 'no role'}")


@main.command()
@click.option("--server", envvar="PEERLEX_SERVER", help="Default: the profile's server.")
@click.option("--wait", type=float, default=0.0, help="Keep trying for this many seconds.")
@pass_state
def ping(state: State, server: str | None, wait: float) -> None:
    """Check that the server answers (exit 6 if it does not)."""
    if server is None:
        profile = load_profile(state.profile)
        server = profile.server if profile else DEFAULT_SERVER
    client = Client(server, retries=0, timeout=5)
    deadline = time.monotonic() + wait
    while True:
        try:
            health = client.health()
        except ServerUnavailable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
            continue
        say(f"{server}: {health.get('status', 'ok')}")
        return


# -- parties and documents --------------------------------------------------------------------


@main.command()
@json_option
@pass_state
def parties(state: State, as_json: bool) -> None:
    """Every party of the deployment: States and organisations."""
    found = state.client().parties()
    if as_json:
        echo_json(found)
        return
    table([(p["code"], p["kind"], p["name"]) for p in found])


@main.command()
@click.argument("party")
@json_option
@pass_state
def docs(state: State, party: str, as_json: bool) -> None:
    """A party's documents you may read, each at the newest version you may see."""
    found = state.client().documents(party)
    if as_json:
        echo_json(found)
        return
    if not found:
        say(f"no documents of {party} you may read")
    table(
        [
            (
                d["slug"],
                d["kind"] or "",
                d["language"] or "",
                short(d["version"]["commit"]),
                d["version"]["committed_at"][:10],
                d["title"] or "",
            )
            for d in found
        ]
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--party", required=True, help="Your State, e.g. BLR.")
@click.option("--slug", required=True, help="The document, e.g. export-law.")
@click.option(
    "--base", help="The version you edited from (needed for every version but the first)."
)
@click.option("-m", "--message", help="What changed, for the log.")
@click.option("--title", help="The document's title (new documents; or to change it).")
@click.option(
    "--kind",
    type=click.Choice(["law", "regulation", "control-list", "action-plan", "report", "other"]),
)
@click.option("--language", help="BCP 47 tag, e.g. ru or en.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the new version's id.")
@json_option
@pass_state
def push(
    state: State,
    file: Path,
    party: str,
    slug: str,
    base: str | None,
    message: str | None,
    title: str | None,
    kind: str | None,
    language: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Save FILE as a new version of a document (a new document when there is no --base)."""
    content = file.read_bytes().decode("utf-8")
    message = message or (f"Update {slug}" if base else f"Create {slug}")
    client = state.client()
    try:
        saved = client.put_document(
            party, slug, content, message, base=base, title=title, kind=kind, language=language
        )
    except Conflict as exc:
        if exc.head and base is None:
            raise Failure(
                f"{party}/{slug} exists already; its current version is {exc.head}. "
                f"To save a new version of it, pass --base {exc.head}",
                EXIT_CONFLICT,
            ) from None
        if exc.head:
            raise Failure(
                f"{party}/{slug} changed since the version you edited from ({short(base)}); its "
                f"current version is {exc.head}. See what changed with: peerlex diff {party} "
                f"{slug} --from {base} --to {exc.head}; then push again with --base {exc.head}",
                EXIT_CONFLICT,
            ) from None
        raise
    version = saved["version"]
    if as_json:
        echo_json(saved)
    elif quiet:
        say(version["commit"])
    else:
        what = "created" if base is None else "saved a new version of"
        say(
            f"{what} {party}/{slug}: {version['commit']} "
            f"(signed by {version['signature']['party'] or party}, "
            f"signature {version['signature']['status']})"
        )


@main.command()
@click.argument("party")
@click.argument("slug")
@click.option("-n", "--limit", type=click.IntRange(min=1), help="Show only the newest N.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the version ids, newest first.")
@json_option
@pass_state
def log(state: State, party: str, slug: str, limit: int | None, quiet: bool, as_json: bool) -> None:
    """The versions of a document you may read, newest first, with their signatures."""
    versions = state.client().versions(party, slug)[:limit]
    if as_json:
        echo_json(versions)
        return
    for v in versions:
        if quiet:
            say(v["commit"])
            continue
        signature = v["signature"]
        signed = (
            f"signed by {signature['party']}"
            if signature["status"] == "good"
            else f"SIGNATURE {signature['status'].upper()}"
        )
        say(
            f"{v['commit']}  {v['committed_at'][:19].replace('T', ' ')}  "
            f"{v['author']['email']}  {signed}  {v['message']}"
        )


@main.command()
@click.argument("party")
@click.argument("slug")
@click.option("--version", "version", help="A version id (default: the newest you may see).")
@json_option
@pass_state
def show(state: State, party: str, slug: str, version: str | None, as_json: bool) -> None:
    """Print a document's text (as stored, so it can be edited and pushed back)."""
    document = state.client().document(party, slug, version)
    if as_json:
        echo_json(document)
        return
    write_text(document["content"])


def want_color(choice: str) -> bool:
    """Colour for a terminal, unless NO_COLOR is set (https://no-color.org)."""
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@main.command()
@click.argument("party")
@click.argument("slug")
@click.option("--from", "old", help="The older version (default: the one before --to).")
@click.option("--to", "new", help="The newer version (default: the newest you may see).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "unified", "html", "json"]),
    default="text",
    show_default=True,
    help="text: a word redline; unified: git's diff; html: a redline page; json: the data.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="auto: colour on a terminal unless NO_COLOR is set.",
)
@click.option("--changes-only", is_flag=True, help="Leave unchanged provisions out.")
@click.option("--page", type=click.IntRange(min=1), help="html: which page of a long redline.")
@pass_state
def diff(
    state: State,
    party: str,
    slug: str,
    old: str | None,
    new: str | None,
    fmt: str,
    color: str,
    changes_only: bool,
    page: int | None,
) -> None:
    """What changed between two versions, word by word, provision by provision."""
    client = state.client()
    if fmt in ("unified", "html"):
        write_text(str(client.diff(party, slug, old=old, new=new, fmt=fmt, page=page)))
        return
    data = client.diff(party, slug, old=old, new=new, fmt="json")
    if fmt == "json":
        echo_json(data)
        return
    use_color = want_color(color)
    for line in render_redline(data, color=use_color, context=not changes_only):
        click.echo(line, color=use_color)


# -- attachments ------------------------------------------------------------------------------


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--party", required=True)
@click.option("--slug", required=True)
@click.option("--name", help="The file name to record (default: FILE's name).")
@click.option("--type", "media_type", help="The media type (default: guessed from the name).")
@click.option("--base", help="Refuse if the document changed since this version.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the attachment's id.")
@json_option
@pass_state
def attach(
    state: State,
    file: Path,
    party: str,
    slug: str,
    name: str | None,
    media_type: str | None,
    base: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Attach a file to a document; it is streamed and stored encrypted."""
    client = state.client()
    with TransferProgress(f"uploading {file.name}") as progress:
        record = client.upload_attachment(
            party, slug, file, name=name, media_type=media_type, base=base, progress=progress
        )
    if as_json:
        echo_json(record)
    elif quiet:
        say(record["id"])
    else:
        say(
            f"attached {record['name']} ({record['size']} bytes, {record['media_type']}) "
            f"to {party}/{slug} as {record['id']}"
        )


@main.command()
@click.argument("party")
@click.argument("slug")
@click.option("-q", "--quiet", is_flag=True, help="Print only the attachment ids.")
@json_option
@pass_state
def attachments(state: State, party: str, slug: str, quiet: bool, as_json: bool) -> None:
    """A document's attachments you may read."""
    found = state.client().attachments(party, slug)
    if as_json:
        echo_json(found)
        return
    if quiet:
        for a in found:
            say(a["id"])
        return
    table([(a["id"], str(a["size"]), a["media_type"], a["uploaded_by"], a["name"]) for a in found])


@main.command("fetch-attachment")
@click.argument("party")
@click.argument("slug")
@click.argument("attachment_id")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def fetch_attachment(state: State, party: str, slug: str, attachment_id: str, output: Path) -> None:
    """Download an attachment (decrypted for you by the server) into a file."""
    client = state.client()
    with TransferProgress(f"downloading {output.name}") as progress:
        size = client.download_attachment(party, slug, attachment_id, output, progress=progress)
    say(f"saved {size} bytes to {output}")


# -- reviews ----------------------------------------------------------------------------------


@main.command()
@json_option
@pass_state
def reviews(state: State, as_json: bool) -> None:
    """The reviews your party takes part in."""
    found = state.client().reviews()
    if as_json:
        echo_json(found)
        return
    if not found:
        say("no reviews")
    for r in found:
        say(
            f"{r['slug']}  {r['state']}  {r['title']}  (States: {', '.join(r['states'])}; "
            f"organisers: {', '.join(r['organisers']) or '-'}; "
            f"observers: {', '.join(r['observers']) or '-'})"
        )


def split_codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


@main.command("review-create")
@click.argument("review")
@click.option("--title", required=True, help="e.g. 'Dushanbe 2017'.")
@click.option("--states", required=True, help="Participating States, comma-separated.")
@click.option("--organisers", default="", help="Other organising organisations.")
@click.option("--observers", default="", help="Observing organisations.")
@json_option
@pass_state
def review_create(
    state: State,
    review: str,
    title: str,
    states: str,
    organisers: str,
    observers: str,
    as_json: bool,
) -> None:
    """Open a review (organisers); your organisation is always among its organisers."""
    created = state.client().create_review(
        review,
        title,
        split_codes(states),
        organisers=split_codes(organisers),
        observers=split_codes(observers),
    )
    if as_json:
        echo_json(created)
        return
    say(f"opened review {created['slug']} ({created['title']})")


@main.command("review-state")
@click.argument("review")
@click.argument("new_state", type=click.Choice(STATE_OPTIONS))
@json_option
@pass_state
def review_state(state: State, review: str, new_state: str, as_json: bool) -> None:
    """Move a review on: open -> agreement -> closed (its organisers)."""
    changed = state.client().set_review_state(review, new_state)
    if as_json:
        echo_json(changed)
        return
    say(f"review {changed['slug']} is now in state {changed['state']}")


@main.command()
@click.argument("review")
@click.option("--party", required=True)
@click.option("--slug", required=True)
@click.option("--version", "version", required=True, help="The version id to share.")
@json_option
@pass_state
def share(state: State, review: str, party: str, slug: str, version: str, as_json: bool) -> None:
    """Share one version of your State's document into a review."""
    shared = state.client().share(review, party, slug, version)
    if as_json:
        echo_json(shared)
        return
    say(f"{party}/{slug} version {shared['version']} is shared into {review}")


@main.command()
@click.argument("review")
@json_option
@pass_state
def shares(state: State, review: str, as_json: bool) -> None:
    """Every version shared into a review, oldest first."""
    found = state.client().shares(review)
    if as_json:
        echo_json(found)
        return
    table(
        [
            (f"{s['party']}/{s['slug']}", s["version"], s["shared_at"][:10], s["shared_by"])
            for s in found
        ]
    )


def threads(comments: list[Comment]) -> Iterator[tuple[int, Comment]]:
    """Comments in thread order with their depth: each reply under the comment it answers."""
    present = {c["id"] for c in comments}
    children: dict[int | None, list[Comment]] = {}
    for comment in comments:
        parent = comment["parent"] if comment["parent"] in present else None
        children.setdefault(parent, []).append(comment)

    def walk(parent: int | None, depth: int) -> Iterator[tuple[int, Comment]]:
        for comment in sorted(children.get(parent, []), key=lambda c: c["id"]):
            yield depth, comment
            yield from walk(comment["id"], depth + 1)

    yield from walk(None, 0)


@main.command()
@click.argument("review")
@click.option("--party", help="Only comments on this party's documents.")
@click.option("--slug", help="Only comments on this document.")
@click.option("--version", "version", help="Anchor every comment on this shared version.")
@click.option("--status", type=click.Choice(COMMENT_STATUSES))
@json_option
@pass_state
def comments(
    state: State,
    review: str,
    party: str | None,
    slug: str | None,
    version: str | None,
    status: str | None,
    as_json: bool,
) -> None:
    """A review's comments, threaded, with where each quote stands in the version asked for."""
    found = state.client().comments(review, party=party, slug=slug, version=version, status=status)
    if as_json:
        echo_json(found)
        return
    if not found:
        say("no comments")
    for depth, c in threads(found):
        pad = "    " * depth
        head = f"#{c['id']} [{c['status']}] {c['author']} ({c['author_party']})"
        if depth == 0:
            anchor = c["anchor"]
            where = f"{c['party']}/{c['slug']}@{short(anchor['version'])}"
            if anchor.get("block"):
                where += f" {anchor['block']}"
            words = ANCHOR_WORDS.get(anchor["status"], anchor["status"])
            if c["parent"] is not None:
                head += f" reply to #{c['parent']}"
            say(f"{head} on {where}: {words}")
            quote = printable(anchor.get("quote") or c["quote"])
            # A quote's own line breaks stay indented under it, never posing as a comment.
            click.echo("    > " + quote.replace("\n", "\n      "))
        else:
            say(f"{pad}{head}")
        for line in printable(c["body"]).splitlines() or [""]:
            click.echo(f"{pad}    {line}")


@main.command()
@click.argument("review")
@click.option("--party", help="The document's party (not needed for a reply).")
@click.option("--slug", help="The document (not needed for a reply).")
@click.option("--version", "version", help="The shared version quoted (not needed for a reply).")
@click.option("--quote", help="The exact words commented on (not needed for a reply).")
@click.option("--body", required=True, help="The comment.")
@click.option("--parent", type=int, help="Reply to this comment id.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the new comment's id.")
@json_option
@pass_state
def comment(
    state: State,
    review: str,
    party: str | None,
    slug: str | None,
    version: str | None,
    quote: str | None,
    body: str,
    parent: int | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Comment on a quote of a shared version, or reply to a comment with --parent."""
    if parent is None and not (party and slug and version and quote):
        raise click.UsageError("a comment needs --party, --slug, --version and --quote")
    made = state.client().comment(
        review, body, party=party, slug=slug, version=version, quote=quote, parent=parent
    )
    if as_json:
        echo_json(made)
    elif quiet:
        say(str(made["id"]))
    else:
        where = f"reply to #{parent}" if parent else f"on {made['party']}/{made['slug']}"
        say(f"comment #{made['id']} added ({where})")


@main.command()
@click.argument("review")
@click.argument("comment_id", type=int)
@click.option(
    "--status", type=click.Choice(COMMENT_STATUSES), default="resolved", show_default=True
)
@json_option
@pass_state
def resolve(state: State, review: str, comment_id: int, status: str, as_json: bool) -> None:
    """Set a comment's status: resolved (default), accepted, rejected, or open again."""
    changed = state.client().update_comment(review, comment_id, status=status)
    if as_json:
        echo_json(changed)
        return
    say(f"comment #{changed['id']} is now {changed['status']}")


@main.command()
@click.argument("review")
@click.option("--party", required=True)
@click.option("--slug", required=True)
@click.option("--version", "version", required=True, help="The version last shared.")
@json_option
@pass_state
def approve(state: State, review: str, party: str, slug: str, version: str, as_json: bool) -> None:
    """Approve your State's final version of a document (heads, in the agreement state)."""
    made = state.client().approve(review, party, slug, version)
    if as_json:
        echo_json(made)
        return
    say(
        f"approved {party}/{slug} version {made['version']} in {review} "
        f"(signed statement by {made['approved_by']})"
    )


@main.command()
@click.argument("review")
@json_option
@pass_state
def approvals(state: State, review: str, as_json: bool) -> None:
    """Every approval made in a review (voided ones marked)."""
    found = state.client().approvals(review)
    if as_json:
        echo_json(found)
        return
    table(
        [
            (
                f"{a['party']}/{a['slug']}",
                a["version"],
                a["approved_by"],
                "VOIDED by a later share" if a["voided"] else "standing",
            )
            for a in found
        ]
    )


@main.group()
def recipient() -> None:
    """An organisation's offline age recipients, to which bundle attachments are encrypted."""


@recipient.command("add")
@click.argument("party")
@click.argument("age_recipient", metavar="AGE_RECIPIENT")
@click.option("--label", default="", help="Where the identity is kept, e.g. 'safe in Vienna'.")
@json_option
@pass_state
def recipient_add(state: State, party: str, age_recipient: str, label: str, as_json: bool) -> None:
    """Register an age recipient (age1...) whose identity never reaches the server."""
    added = state.client().add_recipient(party, age_recipient.strip(), label)
    if as_json:
        echo_json(added)
        return
    say(f"{party} now has the offline recipient {added['recipient']}")


@recipient.command("list")
@click.argument("party")
@json_option
@pass_state
def recipient_list(state: State, party: str, as_json: bool) -> None:
    """The offline age recipients of your organisation."""
    found = state.client().recipients(party)
    if as_json:
        echo_json(found)
        return
    table([(r["recipient"], r["label"]) for r in found])


@main.group()
def bundle() -> None:
    """The signed final bundle of a review."""


@bundle.command("build")
@click.argument("review")
@json_option
@pass_state
def bundle_build(state: State, review: str, as_json: bool) -> None:
    """Build the final bundle once every shared document is approved; this closes the review."""
    info = state.client().build_bundle(review)
    if as_json:
        echo_json(info)
        return
    say(
        f"built the final bundle of {info['review']}: {info['documents']} document(s), "
        f"{info['attachments']} attachment(s), {info['size']} bytes, sha256 {info['sha256']}"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@bundle.command("pull")
@click.argument("review")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def bundle_pull(state: State, review: str, output: Path) -> None:
    """Download the final bundle (organisers); check it with `peerlex verify`."""
    client = state.client()
    with TransferProgress(f"downloading {output.name}") as progress:
        size = client.download_bundle(review, output, progress=progress)
    say(f"saved {size} bytes to {output} (sha256 {file_sha256(output)})")


@main.command("allowed-signers")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_state
def allowed_signers_save(state: State, output: Path) -> None:
    """Save the keys the server publishes, for `peerlex verify --allowed-signers FILE`."""
    text = state.client().allowed_signers()
    output.write_text(text, encoding="utf-8")
    count = sum(1 for line in text.splitlines() if line.strip())
    click.echo(
        f"saved {count} key(s) to {output}; compare their fingerprints with the parties' "
        f"(ssh-keygen -lf {output})"
    )


# -- offline ----------------------------------------------------------------------------------


@main.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--allowed-signers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trusted allowed_signers file (GET /api/v1/allowed_signers, checked out of band).",
)
@click.option(
    "--trust-bundle-keys",
    is_flag=True,
    help="Without --allowed-signers, accept the bundle's own keys (exit 0, not 8).",
)
def verify(bundle: Path, allowed_signers: Path | None, trust_bundle_keys: bool) -> None:
    """Check a final bundle offline: one line per check, then the verdict (exit 0 if all pass)."""
    from clients.verify import verify_bundle  # only this command needs the crypto and git code

    failed = 0
    for check in verify_bundle(bundle, allowed_signers):
        failed += not check.ok
        say(check.line())
    if failed:
        say(f"NOT VERIFIED: {failed} check(s) failed")
        sys.exit(EXIT_FAILED)
    if allowed_signers is None and not trust_bundle_keys:
        say(
            "signatures good, signers not checked against a trusted list: pass "
            "--allowed-signers with the parties' published keys (or --trust-bundle-keys)"
        )
        sys.exit(EXIT_SIGNERS_UNCHECKED)
    say("VERIFIED: every check passed")
    if allowed_signers is None:
        say(
            "note: keys came from the bundle itself; compare their fingerprints with the "
            "parties' published ones (ssh-keygen -lf allowed_signers)"
        )


@main.command("config-path")
def config_path() -> None:
    """Print the file that keeps your logins."""
    say(str(profiles_path()))
