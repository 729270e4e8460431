"""The diff between two versions a user may read: structural JSON, git's unified diff, redline."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from flask import Response, jsonify

from repo_store.diff import diff_texts, render_html
from repo_store.diff.redline import STYLE
from server.models import User
from server.services.context import services
from server.services.documents import previous_readable, readable_version

# The redline's only style element, allowed by its hash: the page runs no script at all.
REDLINE_CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    + "'; frame-ancestors 'none'"
)


def document_diff(
    user: User, code: str, slug: str, old: str | None, new: str | None, fmt: str
) -> Response:
    """Compare two readable versions; `new` defaults to the newest, `old` to the one before."""
    new_version = readable_version(user, code, slug, new)
    old_version = (
        readable_version(user, code, slug, old)
        if old is not None
        else previous_readable(user, code, slug, new_version)
    )
    store = services().store
    if fmt == "unified":
        text = store.unified_diff(code, slug, old_version, new_version)
        return Response(text, mimetype="text/x-diff")
    new_doc = store.read_document(code, slug, new_version)
    old_text = store.read_document(code, slug, old_version).content if old_version else ""
    diff = diff_texts(old_text, new_doc.content)
    if fmt == "html":
        page = render_html(
            diff,
            title=str(new_doc.metadata.get("title") or slug),
            old_label=old_version[:12] if old_version else "(none)",
            new_label=new_version[:12],
            lang=str(new_doc.metadata.get("language") or "und"),
        )
        response = Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = REDLINE_CSP
        return response
    payload: dict[str, Any] = {
        "party": code,
        "slug": slug,
        "from": old_version,
        "to": new_version,
        **diff.to_json(),
    }
    return jsonify(payload)
