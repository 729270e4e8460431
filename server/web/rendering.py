"""Template helpers: visible bidi controls, dates in the reader's locale, statuses in words."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, request
from flask_babel import format_datetime, get_locale, gettext
from markupsafe import Markup, escape

from repo_store.diff.text import BIDI_RE, code_point_name
from server.web.i18n import LANGUAGE_NAMES, LANGUAGES


def shown(text: object) -> Markup:
    """Escape text, and show each bidi control as a visible mark instead of letting it act."""
    escaped = str(escape("" if text is None else str(text)))
    if BIDI_RE.search(escaped) is None:
        # Escaped just above, so marking it safe is right.
        return Markup(escaped)  # noqa: S704  # nosec B704
    # Every piece is escaped: the text above and the code point name here.
    return Markup(  # noqa: S704  # nosec B704
        BIDI_RE.sub(
            lambda m: (
                f'<span class="bidi" title="{escape(code_point_name(m.group()))}">'
                f"U+{ord(m.group()):04X}</span>"
            ),
            escaped,
        )
    )


def plain(text: object) -> str:
    """Text for places that cannot hold markup (the page title): bidi controls spelled out."""
    value = "" if text is None else str(text)
    return BIDI_RE.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)


def when(value: datetime | str | None) -> str:
    """A moment in the reader's locale (UTC), e.g. '3 мар. 2017 г., 10:00:00 UTC'."""
    if value is None or value == "":
        return ""
    moment = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    return f"{format_datetime(moment, 'medium')} UTC"


def short(sha: str | None) -> str:
    return sha[:12] if sha else "—"


def comment_status(status: str) -> str:
    words = {
        "open": gettext("open"),
        "resolved": gettext("resolved"),
        "accepted": gettext("accepted"),
        "rejected": gettext("rejected"),
    }
    return str(words.get(status, status))


def anchor_status(status: str) -> str:
    words = {
        "current": gettext("in place: the quoted passage is where it was commented"),
        "moved": gettext("moved: the quoted passage is now in another provision"),
        "changed": gettext("changed: the passage was reworded; the closest match is shown"),
        "orphaned": gettext("orphaned: the passage is no longer in this version"),
    }
    return str(words.get(status, status))


def signature_status(status: str) -> str:
    words = {
        "good": gettext("good signature"),
        "bad": gettext("BAD signature"),
        "missing": gettext("not signed"),
    }
    return str(words.get(status, status))


def review_state(state: str) -> str:
    words = {
        "open": gettext("open for comments"),
        "agreement": gettext("agreement: heads approve final versions"),
        "closed": gettext("closed"),
    }
    return str(words.get(state, state))


def block_op(op: str) -> str:
    words = {
        "equal": "",
        "insert": gettext("inserted"),
        "delete": gettext("deleted"),
        "replace": gettext("changed"),
        "move": gettext("moved"),
    }
    return str(words.get(op, op))


def current_language() -> str:
    return str(get_locale() or LANGUAGES[0])


def here() -> str:
    """This page's path and query, as the place to come back to (a form's answer: home)."""
    if request.method != "GET":
        return "/"
    query = request.query_string.decode("ascii", "replace")
    return request.path + ("?" + query if query else "")


def init_rendering(app: Flask) -> None:
    app.jinja_env.filters.update(
        shown=shown,
        plain=plain,
        when=when,
        short=short,
        comment_status=comment_status,
        anchor_status=anchor_status,
        signature_status=signature_status,
        review_state=review_state,
        block_op=block_op,
    )
    app.jinja_env.globals.update(
        current_language=current_language,
        here=here,
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
    )
