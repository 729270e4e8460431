"""Fixtures for the web pages: a signed-in browser-like client per user, and a shared law."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.server.review_fixtures import LAW_V1, LAW_V2, LAW_V3, USERS, ReviewWorld
from tests.support.accounts import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
DOC = "/reviews/dushanbe-2017/documents/BLR/export-law"


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def links_to(path: str, html: str, fmt: str) -> dict[str, str]:
    """The query of the page's one link to path with that format."""
    found = []
    for href in re.findall(r'href="([^"]+)"', html):
        parts = urlsplit(unescape(href))
        query = dict(parse_qsl(parts.query))
        if parts.path == path and query.get("format") == fmt:
            found.append(query)
    assert len(found) == 1, (path, fmt, found)
    return found[0]


class Page:
    """A cookie-carrying client that signs in through the sign-in form, as a browser does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        self.token = csrf_of(self.client.get("/sign-in").text)
        return self.client.post(
            "/sign-in", data={"email": email, "password": password, "csrf_token": self.token}
        )

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)


@dataclass
class WebWorld:
    """The review world with BLR's law at three versions: v1 and v3 shared, v2 not."""

    app: Flask
    world: ReviewWorld

    @property
    def versions(self) -> list[str]:
        return self.world.versions

    def page(self, role: str | None) -> Page:
        page = Page(self.app.test_client())
        if role is not None and role != "anonymous":
            answer = page.sign_in(USERS[role][0])
            assert answer.status_code == 302, answer.text
            # Signing in starts a new session, and with it a new CSRF token.
            page.token = csrf_of(page.get("/reviews").text)
        return page


@pytest.fixture
def web_world(app: Flask, review_world: ReviewWorld) -> WebWorld:
    v1 = review_world.push(LAW_V1)
    review_world.push(LAW_V2)
    v3 = review_world.push(LAW_V3)
    assert review_world.share(v1).status_code == 201
    assert review_world.share(v3).status_code == 201
    return WebWorld(app, review_world)
