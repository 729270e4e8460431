"""A review world: three States, an outsider State, organisers and an observer, with texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import add_party, add_user
from tests.support.api import Api, token_for

LAW_V1 = """# Закон об экспортном контроле

Статья 1. Сфера применения

Настоящий Закон регулирует экспорт товаров двойного назначения.

Статья 2. Лицензирование

(1) Экспорт осуществляется на основании лицензии.

(2) Лицензия выдаётся уполномоченным органом в течение тридцати дней со дня подачи заявления.

Статья 3. Ответственность

За нарушение настоящего Закона наступает административная ответственность.

Статья 4. Контроль

Таможенные органы проверяют документы при вывозе товаров.
"""
LAW_V2 = LAW_V1.replace(
    "двойного назначения.",
    "двойного назначения.\nОн применяется также к передаче технологий.",
)
LAW_V3 = """# Закон об экспортном контроле

Статья 1. Сфера применения

Настоящий Закон регулирует экспорт товаров двойного назначения.
Он применяется также к передаче технологий.

Статья 2. Лицензирование

(1) Экспорт осуществляется на основании лицензии.

(2) Лицензия выдаётся уполномоченным органом в течение двадцати рабочих дней со дня подачи
заявления.

(3) Таможенные органы проверяют документы при вывозе товаров.

Статья 3. Заключительные положения

Настоящий Закон вступает в силу через три месяца после его опубликования.
"""


@dataclass
class ReviewWorld:
    apis: dict[str, Api]
    versions: list[str] = field(default_factory=list)
    review: str = "dushanbe-2017"

    def __getitem__(self, role: str) -> Api:
        return self.apis[role]

    def url(self, tail: str = "") -> str:
        return f"/api/v1/reviews/{self.review}{tail}"

    def push(self, content: str) -> str:
        body: dict[str, Any] = {"content": content, "message": "draft"}
        if self.versions:
            body["base"] = self.versions[-1]
        response = self.apis["own"].put("/api/v1/parties/BLR/documents/export-law", json=body)
        assert response.status_code in (200, 201), response.json
        sha: str = response.json["version"]["commit"]
        self.versions.append(sha)
        return sha

    def share(self, version: str) -> Any:
        return self.apis["own"].post(
            self.url("/shares"), json={"party": "BLR", "slug": "export-law", "version": version}
        )


USERS = {
    "own": ("expert@blr.example", "BLR", "expert"),
    "head": ("head@blr.example", "BLR", "head"),
    "peer": ("expert@kgz.example", "KGZ", "expert"),
    "peer_head": ("head@kgz.example", "KGZ", "head"),
    "third": ("expert@tjk.example", "TJK", "expert"),
    "outsider": ("expert@uzb.example", "UZB", "expert"),
    "organiser": ("organiser@unrcpd.example", "UNRCPD", "organiser"),
    "other_organiser": ("organiser@osce.example", "OSCE", "organiser"),
    "observer": ("observer@goe.example", "GOE", "observer"),
    "admin": ("admin@peerlex.example", None, "admin"),
}


def seed_review_world(app: Flask, client: FlaskClient) -> ReviewWorld:
    """Parties, users with tokens, and the review `dushanbe-2017` opened by UNRCPD."""
    for code in ("BLR", "KGZ", "TJK", "UZB"):
        add_party(app, code)
    for code in ("UNRCPD", "OSCE", "GOE"):
        add_party(app, code, kind="organisation")
    for email, party, role in USERS.values():
        add_user(app, email, party, role)
    apis = {name: Api(client, token_for(client, email)) for name, (email, _, _) in USERS.items()}
    apis["anonymous"] = Api(client, None)
    world = ReviewWorld(apis)
    created = apis["organiser"].post(
        "/api/v1/reviews",
        json={
            "slug": world.review,
            "title": "Dushanbe 2017",
            "states": ["BLR", "KGZ", "TJK"],
            "observers": ["GOE"],
        },
    )
    assert created.status_code == 201, created.json
    return world


@pytest.fixture
def review_world(app: Flask, client: FlaskClient) -> ReviewWorld:
    return seed_review_world(app, client)
