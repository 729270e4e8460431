"""A review's comments on two versions, as threads anchored on the newer one, and as what the
Word and PDF writers take (Word comments with replies, numbered notes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from repo_store.diff.textdiff import TextDiff
from repo_store.word.redline import WordComment
from server.models import User
from server.redline.notes import note_threads as numbered_notes
from server.redline.pdf import NoteThread
from server.services import comments


@dataclass(frozen=True)
class Reply:
    author: str
    party: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Thread:
    """A root comment where its quote stands on the newer version, with its replies."""

    id: int
    author: str
    party: str
    body: str
    status: str
    created_at: datetime
    quote: str
    anchor_status: str
    block: str | None
    start: int | None
    end: int | None
    # Where it was made: on the older version of the two, its own anchor there.
    on_old: bool = False
    own_block: str = ""
    own_start: int = 0
    own_end: int = 0
    own_quote: str = ""
    replies: list[Reply] = field(default_factory=list)


def review_threads(
    user: User, rid: str, code: str, slug: str, old: str | None, new: str
) -> list[Thread]:
    """The review's comment threads made on either version, anchored on the newer one; 404
    unless both versions are shared into the review (and the user takes part in it)."""
    asked = {"party": code, "slug": slug, "version": new}
    found = comments.list_comments(user, rid, asked)
    if old is not None:
        # Listing on old checks that it is shared into this review too.
        comments.list_comments(user, rid, {**asked, "version": old})
    on_these = {v for v in (old, new) if v is not None}
    threads: dict[int, Thread] = {}
    for item in found:
        comment = item.comment
        if comment.parent_id is None and comment.version in on_these:
            threads[comment.id] = Thread(
                comment.id,
                comment.author.name or comment.author.email,
                comment.author_party,
                comment.body,
                comment.status,
                comment.created_at,
                item.anchor.quote,
                item.anchor.status,
                item.anchor.block,
                item.anchor.start,
                item.anchor.end,
                on_old=comment.version == old,
                own_block=comment.block,
                own_start=comment.start,
                own_end=comment.end,
                own_quote=comment.quote,
            )
    parents = {item.comment.id: item.comment.parent_id for item in found}
    for item in found:
        root = item.comment.parent_id
        while root is not None and parents.get(root) is not None:
            root = parents[root]
        if root is not None and root in threads:
            comment = item.comment
            threads[root].replies.append(
                Reply(
                    comment.author.name or comment.author.email,
                    comment.author_party,
                    comment.body,
                    comment.created_at,
                )
            )
    return list(threads.values())


def placed(threads: Sequence[Thread]) -> list[Thread]:
    """The threads whose quote stands somewhere in the newer version (orphans have no place)."""
    return [t for t in threads if t.block is not None and t.anchor_status != "orphaned"]


def note_threads(threads: Sequence[Thread], diff: TextDiff) -> list[NoteThread]:
    """The threads as the PDF redline's numbered notes, in the order of the text (those the
    newer version no longer holds are listed last, said not placed)."""
    comments: list[dict[str, Any]] = []
    for thread in threads:
        anchor = {"status": thread.anchor_status, "block": thread.block, "start": thread.start}
        comments.append(
            {
                "id": f"{thread.id}",
                "parent": None,
                "anchor": {**anchor, "quote": thread.quote},
                "quote": thread.quote,
                "author": thread.author,
                "author_party": thread.party,
                "created_at": thread.created_at,
                "body": thread.body,
            }
        )
        for number, reply in enumerate(thread.replies):
            comments.append(
                {
                    "id": f"{thread.id}.{number}",
                    "parent": f"{thread.id}",
                    "author": reply.author,
                    "author_party": reply.party,
                    "created_at": reply.created_at,
                    "body": reply.body,
                }
            )
    return numbered_notes(comments, diff)


def word_comments(threads: Sequence[Thread]) -> list[WordComment]:
    """The threads as Word comments: on their words in the newer version where the quote stands
    there, else, when made on the older version, on its words there (deleted text); any other
    is passed without a place, for the writer to report as not placed."""
    found = []
    for thread in threads:
        side, block, start, end, quote = "new", thread.block, thread.start, thread.end, thread.quote
        if thread not in placed([thread]) and thread.on_old:
            side, block = "old", thread.own_block
            start, end, quote = thread.own_start, thread.own_end, thread.own_quote
        found.append(
            WordComment(
                id=str(thread.id),
                author=f"{thread.author} ({thread.party})",
                date=thread.created_at,
                body=thread.body,
                quote=quote,
                block_id=block or "",
                start=start,
                end=end,
                side=side,
                replies=tuple(
                    (f"{r.author} ({r.party})", r.created_at, r.body) for r in thread.replies
                ),
            )
        )
    return found
