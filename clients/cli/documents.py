"""`peerlex` commands for parties, documents and their versions: push, log, show, diff."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from clients.cli.app import State, main, pass_state
from clients.cli.exits import EXIT_CONFLICT, Failure
from clients.cli.output import Reply, echo_json, json_reply, say, short, table, write_text
from clients.cli.signed import key_option, needs_key, push_signed, signature_required
from clients.cli.word import (
    needs_output,
    output_option,
    push_docx,
    save_diff_file,
    save_version_docx,
    self_custody_docx,
)
from clients.errors import Conflict
from clients.models import DocumentSummary, Signature, Version
from clients.redline import render_redline
from clients.word import is_docx

DOCUMENT_KINDS = ("law", "regulation", "control-list", "action-plan", "report", "other")


@main.command()
@json_reply
@pass_state
def parties(state: State) -> Reply:
    """Every party of the deployment: States and organisations."""
    found = state.client().parties()
    return Reply(found, lambda: table([(p["code"], p["kind"], p["name"]) for p in found]))


def _print_documents(party: str, found: list[DocumentSummary]) -> None:
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
@click.argument("party")
@json_reply
@pass_state
def docs(state: State, party: str) -> Reply:
    """A party's documents you may read, each at the newest version you may see."""
    found = state.client().documents(party)
    return Reply(found, lambda: _print_documents(party, found))


def _stale_push(exc: Conflict, party: str, slug: str, base: str | None) -> Failure | None:
    """What to do when a push clashes with the stored document, if the server named its head."""
    if exc.head and base is None:
        return Failure(
            f"{party}/{slug} exists already; its current version is {exc.head}. "
            f"To save a new version of it, pass --base {exc.head}",
            EXIT_CONFLICT,
        )
    if exc.head:
        return Failure(
            f"{party}/{slug} changed since the version you edited from ({short(base)}); its "
            f"current version is {exc.head}. See what changed with: peerlex diff {party} "
            f"{slug} --from {base} --to {exc.head}; then push again with --base {exc.head}",
            EXIT_CONFLICT,
        )
    return None


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--party", required=True, help="Your State, e.g. BLR.")
@click.option("--slug", required=True, help="The document, e.g. export-law.")
@click.option(
    "--base", help="The version you edited from (needed for every version but the first)."
)
@click.option("-m", "--message", help="What changed, for the log.")
@click.option("--title", help="The document's title (new documents; or to change it).")
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS))
@click.option("--language", help="BCP 47 tag, e.g. ru or en.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the new version's id.")
@key_option()
@json_reply
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
    key: Path | None,
) -> Reply:
    """Save FILE as a new version of a document (a new document when there is no --base).

    A Word document (.docx) is sent as it is: the server converts it to the stored text and
    keeps it as an encrypted attachment of the version. With a key (--key, or saved by
    `peerlex login --key`) a text version is signed on this machine; a State that holds its
    own keys writes only so.
    """
    message = message or (f"Update {slug}" if base else f"Create {slug}")
    client = state.client()
    word = is_docx(file)
    signing_key = None if word else state.signing_key(key)
    content = "" if word else file.read_bytes().decode("utf-8")
    data = {"content": content, "message": message, "base": base}
    data |= {"title": title, "kind": kind, "language": language}
    try:
        if word:
            saved = push_docx(
                client,
                file,
                party,
                slug,
                message,
                base=base,
                title=title,
                kind=kind,
                language=language,
            )
        elif signing_key is not None:
            saved = push_signed(client, signing_key, state.saved().email, party, slug, data)
        else:
            saved = client.put_document(
                party, slug, content, message, base=base, title=title, kind=kind, language=language
            )
    except Conflict as exc:
        if signature_required(exc):
            raise (self_custody_docx(party) if word else needs_key(party)) from None
        failure = _stale_push(exc, party, slug, base)
        if failure is not None:
            raise failure from None
        raise

    def show() -> None:
        version = saved["version"]
        if quiet:
            say(version["commit"])
            return
        what = "created" if base is None else "saved a new version of"
        say(
            f"{what} {party}/{slug}: {version['commit']} "
            f"({signed_by(version['signature'], party)}, "
            f"signature {version['signature']['status']})"
        )

    return Reply(saved, show)


def signed_by(signature: Signature, party: str) -> str:
    """Whose key signed: a person's registered key, or the key the server holds for the party."""
    signer = signature.get("signer")
    if signer:
        return f"signed by {signer}'s key {signature['fingerprint']}"
    return f"signed by {signature['party'] or party}"


def _print_log(versions: list[Version], quiet: bool) -> None:
    for v in versions:
        if quiet:
            say(v["commit"])
            continue
        signature = v["signature"]
        signed = (
            signed_by(signature, signature["party"] or "")
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
@click.option("-n", "--limit", type=click.IntRange(min=1), help="Show only the newest N.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the version ids, newest first.")
@json_reply
@pass_state
def log(state: State, party: str, slug: str, limit: int | None, quiet: bool) -> Reply:
    """The versions of a document you may read, newest first, with their signatures."""
    versions = state.client().versions(party, slug)[:limit]
    return Reply(versions, lambda: _print_log(versions, quiet))


@main.command()
@click.argument("party")
@click.argument("slug")
@click.option("--version", "version", help="A version id (default: the newest you may see).")
@click.option("--docx", is_flag=True, help="Write the version as a Word document (-o FILE).")
@output_option
@json_reply
@pass_state
def show(
    state: State, party: str, slug: str, version: str | None, docx: bool, output: Path | None
) -> Reply:
    """Print a document's text (as stored, so it can be edited and pushed back), or write it
    as a Word document with --docx -o FILE."""
    if docx:
        target = needs_output(output, "--docx")
        save_version_docx(state.client(), party, slug, version, target)
        return Reply({"file": str(target)}, lambda: None)
    document = state.client().document(party, slug, version)
    return Reply(document, lambda: write_text(document["content"]))


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
@click.option("--docx", "as_docx", is_flag=True, help="Write Word with tracked changes (-o FILE).")
@click.option("--pdf", "as_pdf", is_flag=True, help="Write the redline as a PDF (-o FILE).")
@click.option("--review", help="With --docx or --pdf: add this review's comments.")
@output_option
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
    as_docx: bool,
    as_pdf: bool,
    review: str | None,
    output: Path | None,
) -> None:
    """What changed between two versions, word by word, provision by provision; with --docx
    or --pdf, written to a file as Word tracked changes or a printed redline."""
    client = state.client()
    if as_docx and as_pdf:
        raise click.UsageError("choose one of --docx and --pdf")
    if as_docx or as_pdf:
        flag = "--docx" if as_docx else "--pdf"
        target = needs_output(output, flag)
        kind = "docx" if as_docx else "pdf"
        save_diff_file(client, party, slug, target, fmt=kind, old=old, new=new, review=review)
        return
    if review is not None:
        raise click.UsageError("--review goes with --docx or --pdf")
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
