"""`peerlex` commands for reviews, the versions shared into them, and their comments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from clients.cli.app import State, main, pass_state, version_options
from clients.cli.attachments import identity_option, rewrap_here
from clients.cli.output import Reply, json_reply, say, short, table
from clients.cli.signed import key_option
from clients.models import Comment, Review
from clients.terminal import printable

STATE_OPTIONS = ("agreement", "closed")
COMMENT_STATUSES = ("open", "resolved", "accepted", "rejected")
ANCHOR_WORDS = {
    "current": "quote in place",
    "moved": "quote moved to another provision",
    "changed": "quote reworded; nearest match shown",
    "orphaned": "quote no longer found",
}


def _print_reviews(found: list[Review]) -> None:
    if not found:
        say("no reviews")
    for r in found:
        say(
            f"{r['slug']}  {r['state']}  {r['title']}  (States: {', '.join(r['states'])}; "
            f"organisers: {', '.join(r['organisers']) or '-'}; "
            f"observers: {', '.join(r['observers']) or '-'})"
        )


@main.command()
@json_reply
@pass_state
def reviews(state: State) -> Reply:
    """The reviews your party takes part in."""
    found = state.client().reviews()
    return Reply(found, lambda: _print_reviews(found))


def split_codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


@main.command("review-create")
@click.argument("review")
@click.option("--title", required=True, help="e.g. 'Dushanbe 2017'.")
@click.option("--states", required=True, help="Participating States, comma-separated.")
@click.option("--organisers", default="", help="Other organising organisations.")
@click.option("--observers", default="", help="Observing organisations.")
@json_reply
@pass_state
def review_create(
    state: State, review: str, title: str, states: str, organisers: str, observers: str
) -> Reply:
    """Open a review (organisers); your organisation is always among its organisers."""
    created = state.client().create_review(
        review,
        title,
        split_codes(states),
        organisers=split_codes(organisers),
        observers=split_codes(observers),
    )
    return Reply(created, lambda: say(f"opened review {created['slug']} ({created['title']})"))


@main.command("review-state")
@click.argument("review")
@click.argument("new_state", type=click.Choice(STATE_OPTIONS))
@json_reply
@pass_state
def review_state(state: State, review: str, new_state: str) -> Reply:
    """Move a review on: open -> agreement -> closed (its organisers)."""
    changed = state.client().set_review_state(review, new_state)
    return Reply(
        changed, lambda: say(f"review {changed['slug']} is now in state {changed['state']}")
    )


@main.command()
@click.argument("review")
@version_options("The version id to share.")
@identity_option()
@key_option()
@json_reply
@pass_state
def share(
    state: State,
    review: str,
    party: str,
    slug: str,
    version: str,
    identity: Path | None,
    key: Path | None,
) -> Reply:
    """Share one version of your State's document into a review.

    For a State that holds its own keys, with your key and identity, the document's attachments
    are then re-wrapped here for the review's readers (as `peerlex rewrap` does).
    """
    shared = state.client().share(review, party, slug, version)
    rewrapped = rewrap_here(state, party, slug, identity, key, required=False)

    def show() -> None:
        say(f"{party}/{slug} version {shared['version']} is shared into {review}")
        for line in rewrapped:
            say(line)

    return Reply(shared, show)


@main.command()
@click.argument("review")
@json_reply
@pass_state
def shares(state: State, review: str) -> Reply:
    """Every version shared into a review, oldest first."""
    found = state.client().shares(review)
    return Reply(
        found,
        lambda: table(
            [
                (f"{s['party']}/{s['slug']}", s["version"], s["shared_at"][:10], s["shared_by"])
                for s in found
            ]
        ),
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


def _print_comments(found: list[Comment]) -> None:
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
@click.option("--party", help="Only comments on this party's documents.")
@click.option("--slug", help="Only comments on this document.")
@click.option("--version", "version", help="Anchor every comment on this shared version.")
@click.option("--status", type=click.Choice(COMMENT_STATUSES))
@json_reply
@pass_state
def comments(
    state: State,
    review: str,
    party: str | None,
    slug: str | None,
    version: str | None,
    status: str | None,
) -> Reply:
    """A review's comments, threaded, with where each quote stands in the version asked for."""
    found = state.client().comments(review, party=party, slug=slug, version=version, status=status)
    return Reply(found, lambda: _print_comments(found))


@main.command()
@click.argument("review")
@click.option("--party", help="The document's party (not needed for a reply).")
@click.option("--slug", help="The document (not needed for a reply).")
@click.option("--version", "version", help="The shared version quoted (not needed for a reply).")
@click.option("--quote", help="The exact words commented on (not needed for a reply).")
@click.option("--body", required=True, help="The comment.")
@click.option("--parent", type=int, help="Reply to this comment id.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the new comment's id.")
@json_reply
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
) -> Reply:
    """Comment on a quote of a shared version, or reply to a comment with --parent."""
    if parent is None and not (party and slug and version and quote):
        raise click.UsageError("a comment needs --party, --slug, --version and --quote")
    made = state.client().comment(
        review, body, party=party, slug=slug, version=version, quote=quote, parent=parent
    )

    def show() -> None:
        if quiet:
            say(str(made["id"]))
            return
        where = f"reply to #{parent}" if parent else f"on {made['party']}/{made['slug']}"
        say(f"comment #{made['id']} added ({where})")

    return Reply(made, show)


@main.command()
@click.argument("review")
@click.argument("comment_id", type=int)
@click.option(
    "--status", type=click.Choice(COMMENT_STATUSES), default="resolved", show_default=True
)
@json_reply
@pass_state
def resolve(state: State, review: str, comment_id: int, status: str) -> Reply:
    """Set a comment's status: resolved (default), accepted, rejected, or open again."""
    changed = state.client().update_comment(review, comment_id, status=status)
    return Reply(changed, lambda: say(f"comment #{changed['id']} is now {changed['status']}"))
