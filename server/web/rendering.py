"""Template helpers: visible bidi controls, dates in the reader's locale, statuses in words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial

from flask import Flask, request
from flask_babel import format_datetime, get_locale, gettext
from markupsafe import Markup, escape

from repo_store.diff.blocks import Block
from repo_store.diff.text import BIDI_RE
from server.redline.headings import heading_level, heading_tag, without_marks
from server.redline.render import show_bidi_controls
from server.web.i18n import LANGUAGE_NAMES, LANGUAGES


def shown(text: object) -> Markup:
    """Escape text, and show each bidi control as a visible mark instead of letting it act."""
    escaped = str(escape("" if text is None else str(text)))
    # Every piece is escaped: the text just above, and the code point names of the marks.
    return Markup(show_bidi_controls(escaped))  # noqa: S704  # nosec B704


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


def _(message: str) -> str:
    """Mark a text for the catalogue; it is translated when shown, in the reader's language."""
    return message


# A status, state or diff op in words, per filter; a value without words is shown as it is.
IN_WORDS: dict[str, dict[str, str]] = {
    "comment_status": {
        "open": _("open"),
        "resolved": _("resolved"),
        "accepted": _("accepted"),
        "rejected": _("rejected"),
    },
    "anchor_status": {
        "current": _("in place: the quoted passage is where it was commented"),
        "moved": _("moved: the quoted passage is now in another provision"),
        "changed": _("changed: the passage was reworded; the closest match is shown"),
        "orphaned": _("orphaned: the passage is no longer in this version"),
    },
    "signature_status": {
        "good": _("good signature"),
        "bad": _("BAD signature"),
        "missing": _("not signed"),
    },
    "review_state": {
        "open": _("open for comments"),
        "agreement": _("agreement: heads approve final versions"),
        "closed": _("closed"),
    },
    "factor_kind": {
        "totp": _("authenticator app"),
        "webauthn": _("security key"),
    },
    "party_kind": {
        "state": _("State"),
        "organisation": _("Organisation"),
    },
    "custody": {
        "server": _("keys held by the server"),
        "self": _("holds its own keys"),
    },
    "user_role": {
        "admin": _("administrator"),
        "expert": _("expert"),
        "head": _("head of delegation"),
        "organiser": _("organiser"),
        "observer": _("observer"),
    },
    "block_op": {
        "equal": "",
        "insert": _("inserted"),
        "delete": _("deleted"),
        "replace": _("changed"),
        "move": _("moved"),
    },
}


def block_element(block: Block) -> str:
    """The element a document block is shown in: a heading by its level (under the page's h1
    and its section's h2), any other block a div."""
    level = heading_level(block.kind, block.text)
    return "div" if level is None else heading_tag(level, top=3)


def block_words(block: Block) -> str:
    """A block's text as a reader sees it: a heading without its Markdown marks."""
    if heading_level(block.kind, block.text) is None:
        return block.text
    runs = without_marks([("equal", block.text)])
    return runs[0][1] if runs else block.text


def in_words(words: Mapping[str, str], value: str) -> str:
    """Say value in the reader's language by the table words, or as it is if it has none."""
    message = words.get(value)
    if message is None:
        return value
    # gettext("") would answer the catalogue's header, not an empty text.
    return str(gettext(message)) if message else ""


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
        block_element=block_element,
        block_words=block_words,
        **{name: partial(in_words, words) for name, words in IN_WORDS.items()},
    )
    app.jinja_env.globals.update(
        current_language=current_language,
        here=here,
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
    )
