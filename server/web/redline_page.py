"""The redline: what changed between two shared versions, inline or side by side, with comments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    render_template,
    request,
)

from server.payloads import (
    document_payload,
    review_payload,
    version_payload,
)
from server.redline.headings import heading_level, heading_tag, without_marks
from server.schemas import (
    DiffPageSchema,
    DiffQuerySchema,
)
from server.services import diffs, documents
from server.web.blueprint import bp, signed_in_user
from server.web.document_pages import (
    Pager,
    by_block,
    comment_context,
    document_in_review,
    page_number,
    threads_on,
)


@dataclass
class RedlineRow:
    """One block of a comparison, as word runs for the old and the new side."""

    op: str
    old_id: str | None
    new_id: str | None
    kind: str
    renumbered: bool
    old: list[tuple[str, str]]
    new: list[tuple[str, str]]
    inline: list[tuple[str, str]]
    old_place: str | None  # where a moved or renumbered block stood, in the document's words
    tag: str  # "div", or "h3"… for a heading (the page's h1 and the section's h2 come first)


def _rows(blocks: list[dict[str, Any]]) -> list[RedlineRow]:
    rows = []
    for block in blocks:
        runs = [(t["op"], t["text"]) for t in block["tokens"]] or [("equal", block["text"])]
        if block["op"] == "insert":
            inline, old, new = [("insert", block["text"])], [], [("insert", block["text"])]
        elif block["op"] == "delete":
            inline, old, new = [("delete", block["text"])], [("delete", block["text"])], []
        else:
            inline = runs
            old = [r for r in runs if r[0] != "insert"]
            new = [r for r in runs if r[0] != "delete"]
        level = heading_level(block["kind"], block["text"])
        if level is not None:
            inline, old, new = without_marks(inline), without_marks(old), without_marks(new)
        rows.append(
            RedlineRow(
                block["op"],
                block["old_id"],
                block["new_id"],
                block["kind"],
                block["renumbered"],
                old,
                new,
                inline,
                # Pages written before the diff named places have none: the note says less.
                block.get("old_place"),
                "div" if level is None else heading_tag(level, top=3),
            )
        )
    return rows


@bp.route("/reviews/<rid>/documents/<party>/<slug>/redline")
def redline_page(rid: str, party: str, slug: str) -> str:
    user = signed_in_user()
    review, shared = document_in_review(user, rid, party, slug)
    query = DiffQuerySchema().load(
        {k: v for k, v in request.args.items() if k in ("from", "to") and v}
    )
    view = "side" if request.args.get("view") == "side" else "inline"
    found = diffs.diff_page(user, party, slug, query["from_"], query["to"], "json", page_number())
    diff: dict[str, Any] = DiffPageSchema().dump(found)
    pager = Pager(
        found.page,
        found.pages,
        found.first_block,
        found.first_block + len(diff["blocks"]),
        found.blocks_total,
    )
    version = diff["to"]
    threads = threads_on(user, rid, party, slug, version) if version in shared else []
    placed, unplaced = by_block(threads)
    doc = document_payload(documents.get_document(user, party, slug, version), content=True)
    return render_template(
        "web/redline.html",
        review=review_payload(review),
        doc=doc,
        diff=diff,
        rows=_rows(diff["blocks"]),
        pager=pager,
        view=view,
        versions=[version_payload(v) for v in documents.document_versions(user, party, slug)],
        shared=shared,
        placed=placed,
        unplaced=unplaced,
        commentable=version in shared,
        **comment_context(user, review, party),
    )
