"""The reviewer web pages: server-rendered HTML over the same services and session as the API."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Babel

# Each page module adds its routes to the one blueprint when imported.
from server.web import (  # noqa: F401
    admin_pages,
    admin_user_pages,
    authoring_pages,
    comment_forms,
    desk_pages,
    document_pages,
    invitation_pages,
    new_document_pages,
    new_review_page,
    redline_page,
    review_pages,
    security_key_pages,
    security_pages,
    setup_pages,
    sign_in_pages,
)
from server.web.blueprint import bp
from server.web.i18n import select_locale
from server.web.rendering import init_rendering

TRANSLATIONS = Path(__file__).parent / "translations"


def init_web(app: Flask) -> None:
    """Register the web pages, their translations and template helpers on the app."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    Babel(app, locale_selector=select_locale)
    init_rendering(app)
    app.register_blueprint(bp)
