"""The reader's language: a cookie set by the language switch, else the browser's preference."""

from __future__ import annotations

from flask import request

LANGUAGES = ("en", "ru")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
LANGUAGE_COOKIE = "peerlex_lang"


def select_locale() -> str:
    """The interface language for this request."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]
