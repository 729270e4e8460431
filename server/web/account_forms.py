"""What the pages that make an account (the set-up link, an invitation) share: reading the
new password typed twice, and a refusal told in the reader's language."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext

from server.passwords import MIN_LENGTH, WeakPassword
from server.services.users import AccountRefused, InvalidAccountField

# What a form field may bring at most; longer is refused as it is, never cut (passwords: the
# rules' own limit is 1024 characters).
MAX_FIELD = 2048


def account_error(error: AccountRefused | WeakPassword) -> str:
    """The reason a new account was refused, for the page."""
    message: str
    if isinstance(error, WeakPassword):
        message = gettext(
            "Choose a stronger password: at least %(num)d characters, not easy to guess "
            "(no common words, names or simple patterns).",
            num=MIN_LENGTH,
        )
    elif isinstance(error, InvalidAccountField) and error.field == "password":
        message = gettext("The two passwords differ.")
    elif isinstance(error, InvalidAccountField) and error.field == "email":
        message = gettext("That is not an email address.")
    elif isinstance(error, InvalidAccountField):
        message = gettext("That cannot be done as asked")
    else:
        message = gettext("An account with this email exists already.")
    return message


def field(form: dict[str, str], name: str) -> str:
    """A form field's value, or the empty string when it is missing or oversized."""
    value = form.get(name, "")
    return value if len(value) <= MAX_FIELD else ""


def link_refused(title: str, text: str) -> tuple[str, int]:
    """The page of a one-time link that does not work (any reason: one answer, 404)."""
    page = render_template("web/link_refused.html", title=title, text=text)
    return page, 404
