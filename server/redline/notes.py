"""A review's comments on a version as the printed redline's numbered notes.

The comments are the API's comment payloads (``comment_payload`` or the JSON of
``GET /api/v1/reviews/{rid}/comments?party=&slug=&version=``), anchored on the comparison's
newer version. A thread is a top-level comment and every reply under it; threads are numbered
in the order they stand in the text, so the marks ascend down the pages, and the threads the
version no longer holds come last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from repo_store.diff.textdiff import TextDiff
from server.redline.pdf import NoteReply, NoteThread


def note_threads(comments: Iterable[Mapping[str, Any]], diff: TextDiff) -> list[NoteThread]:
    """Number the comment threads on the newer version of diff, in the order of its text."""
    listed = list(comments)
    by_id = {comment["id"]: comment for comment in listed}
    roots = [comment for comment in listed if comment.get("parent") is None]
    replies: dict[Any, list[Mapping[str, Any]]] = {root["id"]: [] for root in roots}
    for comment in listed:
        root = _root_of(comment, by_id)
        if root is not None and root != comment["id"] and root in replies:
            replies[root].append(comment)
    order = {entry.new_id: i for i, entry in enumerate(diff.blocks) if entry.new_id is not None}
    unplaced = len(order)

    def place(comment: Mapping[str, Any]) -> tuple[int, int, str]:
        block, start = _anchor(comment)
        at = order.get(block, unplaced) if block else unplaced
        return (at, start, _stamp(comment.get("created_at")))

    threads = []
    for number, root in enumerate(sorted(roots, key=place), start=1):
        block, _ = _anchor(root)
        anchor = root.get("anchor") or {}
        threads.append(
            NoteThread(
                number=number,
                id=str(root["id"]),
                block=block,
                quote=str(anchor.get("quote") or root.get("quote") or ""),
                author=_author(root),
                date=_stamp(root.get("created_at")),
                body=str(root.get("body") or ""),
                replies=tuple(
                    NoteReply(_author(r), _stamp(r.get("created_at")), str(r.get("body") or ""))
                    for r in sorted(replies[root["id"]], key=lambda r: _stamp(r.get("created_at")))
                ),
            )
        )
    return threads


def _root_of(comment: Mapping[str, Any], by_id: Mapping[Any, Mapping[str, Any]]) -> Any:
    """The id of the thread's first comment, following parents (None if a parent is missing)."""
    seen = set()
    current = comment
    while current.get("parent") is not None:
        if current["id"] in seen:  # a loop cannot be stored, but must not hang the printer
            return None
        seen.add(current["id"])
        parent = by_id.get(current["parent"])
        if parent is None:
            return None
        current = parent
    return current["id"]


def _anchor(comment: Mapping[str, Any]) -> tuple[str, int]:
    """The block the comment's quote stands in on this version and where, ("", 0) if none."""
    anchor = comment.get("anchor") or {}
    if anchor.get("status") == "orphaned" or not anchor.get("block"):
        return "", 0
    return str(anchor["block"]), int(anchor.get("start") or 0)


def _author(comment: Mapping[str, Any]) -> str:
    author = str(comment.get("author") or "")
    party = comment.get("author_party")
    return f"{author} ({party})" if party else author


def _stamp(value: object) -> str:
    """A time as "2026-11-02 10:15 UTC", from a datetime or the API's ISO 8601 text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ""
