"""Seed an empty data directory with a sample review, through the API, to try peerlex on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from keys.master import create_master_key
from server.config import Config
from server.db import Database, db_session
from server.models import Party
from server.services.context import services
from server.services.users import add_party, add_user

DEMO_PASSWORD = "dushanbe-demo-2017"  # noqa: S105 - printed for everyone; demo data only
REVIEW = "dushanbe-2017"
REVIEW_TITLE = "Dushanbe 2017"

PARTIES = [
    ("BLR", "Republic of Belarus", "state"),
    ("KGZ", "Kyrgyz Republic", "state"),
    ("TJK", "Republic of Tajikistan", "state"),
    ("UNRCPD", "UNODA Regional Centre for Peace and Disarmament", "organisation"),
    ("OSCE", "Organization for Security and Co-operation in Europe", "organisation"),
    ("GOE", "Group of Experts of the 1540 Committee", "organisation"),
]
# email, party (None: deployment admin), role, display name
USERS: list[tuple[str, str | None, str, str]] = [
    ("expert@blr.example", "BLR", "expert", "Belarus, expert"),
    ("head@blr.example", "BLR", "head", "Belarus, head of delegation"),
    ("expert@kgz.example", "KGZ", "expert", "Kyrgyzstan, expert"),
    ("head@kgz.example", "KGZ", "head", "Kyrgyzstan, head of delegation"),
    ("expert@tjk.example", "TJK", "expert", "Tajikistan, expert"),
    ("head@tjk.example", "TJK", "head", "Tajikistan, head of delegation"),
    ("organiser@unrcpd.example", "UNRCPD", "organiser", "UNRCPD, organiser"),
    ("organiser@osce.example", "OSCE", "organiser", "OSCE, organiser"),
    ("observer@goe.example", "GOE", "observer", "1540 Committee experts, observer"),
    ("admin@peerlex.example", None, "admin", "Deployment administrator"),
]

BLR_LAW_V1 = """\
# Закон Республики Беларусь «Об экспортном контроле» (проект)

Статья 1. Сфера применения

Настоящий Закон определяет порядок экспорта товаров двойного назначения, которые могут быть
использованы при создании оружия массового поражения и средств его доставки.

Статья 2. Основные понятия

(1) Товары двойного назначения — сырьё, материалы, оборудование, программное обеспечение и
технологии, включённые в национальный контрольный список.

(2) Экспортёр — юридическое или физическое лицо, заключившее внешнеторговый договор.

Статья 3. Разрешения

(1) Экспорт товаров двойного назначения осуществляется на основании разрешения
уполномоченного органа.

(2) Разрешение выдаётся в течение тридцати дней со дня подачи заявления.

Статья 4. Ответственность

Нарушение настоящего Закона влечёт ответственность, установленную законодательными актами.
"""

BLR_LAW_V2 = """\
# Закон Республики Беларусь «Об экспортном контроле» (проект)

Статья 1. Сфера применения

Настоящий Закон определяет порядок экспорта, транзита и посреднической деятельности в отношении
товаров двойного назначения, которые могут быть использованы при создании оружия массового
поражения и средств его доставки.

Статья 2. Основные понятия

(1) Товары двойного назначения — сырьё, материалы, оборудование, программное обеспечение и
технологии, включённые в национальный контрольный список.

(2) Экспортёр — юридическое или физическое лицо, заключившее внешнеторговый договор.

(3) Посредническая деятельность — содействие заключению сделки о передаче товаров двойного
назначения между иностранными лицами.

Статья 3. Разрешения

(1) Экспорт товаров двойного назначения осуществляется на основании разрешения
уполномоченного органа.

(2) Разрешение выдаётся в течение тридцати дней со дня подачи заявления.

(3) Уполномоченный орган приостанавливает разрешение, если получает сведения о возможном
использовании товаров для создания оружия массового поражения.

Статья 4. Всеобъемлющий контроль

Экспортёр обращается за разрешением и тогда, когда товар не включён в контрольный список, но
экспортёру известно, что товар предназначен для создания оружия массового поражения.

Статья 5. Ответственность

Нарушение настоящего Закона влечёт административную или уголовную ответственность,
установленную законодательными актами.
"""

KGZ_LIST_V1 = """\
# Национальный контрольный список Кыргызской Республики (проект)

Раздел 1. Ядерные материалы и оборудование

1.1. Природный и обеднённый уран, торий в любой физической и химической форме.

1.2. Оборудование, специально предназначенное для разделения изотопов урана.

Раздел 2. Химические вещества

2.1. Токсичные химикаты и их прекурсоры, включённые в списки Конвенции о химическом оружии.

2.2. Реакторы и ёмкости из коррозионностойких материалов объёмом более 100 литров.

Раздел 3. Биологические агенты

3.1. Возбудители болезней человека по перечню, утверждаемому Правительством.
"""

KGZ_LIST_V2 = """\
# Национальный контрольный список Кыргызской Республики (проект)

Раздел 1. Ядерные материалы и оборудование

1.1. Природный и обеднённый уран, торий в любой физической и химической форме.

1.2. Оборудование, специально предназначенное для разделения изотопов урана.

1.3. Тяжёлая вода и графит ядерной чистоты.

Раздел 2. Химические вещества

2.1. Токсичные химикаты и их прекурсоры, включённые в списки Конвенции о химическом оружии.

2.2. Реакторы и ёмкости из коррозионностойких материалов объёмом более 100 литров.

Раздел 3. Биологические агенты

3.1. Возбудители болезней человека, животных и растений по перечню, утверждаемому
Правительством.

Раздел 4. Средства доставки

4.1. Ракеты и беспилотные летательные аппараты с дальностью не менее 300 км.
"""

TJK_REGULATION_V1 = """\
# Regulation on the Biosafety and Biosecurity of Dangerous Pathogens (draft)

Article 1. Purpose

This Regulation sets the rules for the safe and secure handling, storage and transfer of
dangerous pathogens and toxins in the Republic of Tajikistan.

Article 2. Register of facilities

(1) The competent authority keeps a register of facilities that hold dangerous pathogens.

(2) A facility is entered in the register before it receives any dangerous pathogen.

Article 3. Physical protection

Each facility limits access to the rooms where pathogens are stored to vetted staff and keeps a
record of every entry.

Article 4. Transfers

A transfer of a dangerous pathogen between facilities needs the prior written consent of the
competent authority.
"""

TJK_REGULATION_V2 = TJK_REGULATION_V1.replace(
    "keeps a\nrecord of every entry.",
    "keeps a\nrecord of every entry. It counts its stock of pathogens at least once a year.",
) + (
    "\nArticle 5. Incidents\n\n"
    "A facility reports the loss or theft of a dangerous pathogen to the competent authority\n"
    "within twenty-four hours.\n"
)

BLR_ANNEX = """\
Приложение 1 к Закону «Об экспортном контроле» (проект)

ФОРМА ЗАЯВЛЕНИЯ НА РАЗРЕШЕНИЕ ЭКСПОРТА ТОВАРОВ ДВОЙНОГО НАЗНАЧЕНИЯ

1. Экспортёр (наименование, адрес, учётный номер плательщика): ____________
2. Получатель и конечный пользователь: ____________
3. Наименование товара и код по национальному контрольному списку: ____________
4. Количество и стоимость: ____________
5. Заявленное конечное использование: ____________
6. Гарантии конечного пользователя прилагаются: да / нет
"""

# party, slug, versions, which of them to share, metadata
DOCUMENTS: list[tuple[str, str, list[str], list[int], dict[str, str]]] = [
    (
        "BLR",
        "export-law",
        [BLR_LAW_V1, BLR_LAW_V2],
        [0, 1],
        {"title": "Закон «Об экспортном контроле»", "kind": "law", "language": "ru"},
    ),
    (
        "KGZ",
        "control-list",
        [KGZ_LIST_V1, KGZ_LIST_V2],
        [0, 1],
        {"title": "Национальный контрольный список", "kind": "control-list", "language": "ru"},
    ),
    (
        "TJK",
        "biosecurity-regulation",
        [TJK_REGULATION_V1, TJK_REGULATION_V2],
        [1],
        {
            "title": "Regulation on the Biosafety and Biosecurity of Dangerous Pathogens",
            "kind": "regulation",
            "language": "en",
        },
    ),
]
MESSAGES = ["First draft", "Draft after the interagency consultation"]


class DemoRefused(Exception):
    """The data directory is not empty: the demo seeds only a fresh one."""


class DemoFailed(Exception):
    """The API refused a step of the demo (which would be a bug)."""


@dataclass
class DemoReport:
    """What the demo made, for printing."""

    data_dir: str
    password: str
    users: list[tuple[str, str, str]] = field(default_factory=list)
    versions: dict[str, list[str]] = field(default_factory=dict)
    comments: int = 0

    def lines(self) -> list[str]:
        out = [
            f"demo data written to {self.data_dir}",
            f"review {REVIEW} ({REVIEW_TITLE}): States BLR, KGZ, TJK; organisers UNRCPD, OSCE; "
            "observer GOE",
        ]
        for name, shas in self.versions.items():
            out.append(f"  {name}: {len(shas)} versions, newest {shas[-1]}")
        out.append(f"  {self.comments} comments, 1 attachment")
        out.append("")
        out.append(f"every demo user's password: {self.password}")
        width = max(len(email) for email, _, _ in self.users)
        for email, party, role in self.users:
            out.append(f"  {email.ljust(width)}  {role} {party}".rstrip())
        out.append("")
        out.append("next: peerlex-server run, then for example")
        out.append("  peerlex login --email expert@blr.example")
        return out


def _initialise(config: Config) -> None:
    """Make the data directory usable, as `peerlex-server init --if-missing` would."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    if not config.master_key_path.exists() and not config.environ.get("PEERLEX_MASTER_KEY"):
        create_master_key(config.master_key_path)
    database = Database(config.database_uri)
    database.create_schema()
    database.engine.dispose()
    for sub in (config.repos_dir, config.keys_dir, config.blobs_dir, config.bundles_dir):
        sub.mkdir(exist_ok=True)


def _add_parties_and_users(app: Flask, password: str) -> None:
    with app.app_context():
        existing = db_session().scalar(select(func.count()).select_from(Party)) or 0
        if existing:
            raise DemoRefused(
                f"{services().config.data_dir} already has {existing} part"
                f"{'y' if existing == 1 else 'ies'}; the demo only seeds an empty data directory "
                "(use another --data or PEERLEX_DATA)"
            )
        for code, name, kind in PARTIES:
            add_party(code, name, kind)
        for email, party_code, role, display in USERS:
            add_user(email, password, role, party_code, display)


class _Caller:
    """One demo user speaking to the API with a Bearer token, as a real client would."""

    def __init__(self, client: FlaskClient, email: str, password: str) -> None:
        self.client = client
        answer = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})
        self.token = str(self._ok(answer, "log in as " + email)["token"])

    @staticmethod
    def _ok(response: Any, what: str) -> dict[str, Any]:
        body = response.get_json(silent=True)
        response.close()
        if response.status_code >= 400:
            detail = body.get("detail") if isinstance(body, dict) else response.status
            raise DemoFailed(f"{what}: {detail}")
        return body if isinstance(body, dict) else {}

    def call(self, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self._ok(self.client.open(url, method=method, headers=headers, **kwargs), what)

    def close(self) -> None:
        self.call("DELETE", "/api/v1/auth/tokens", "log out")


def _seed_review(client: FlaskClient, password: str, report: DemoReport) -> None:
    callers = {
        email: _Caller(client, email, password)
        for email in (
            "organiser@unrcpd.example",
            "expert@blr.example",
            "expert@kgz.example",
            "expert@tjk.example",
            "observer@goe.example",
        )
    }
    organiser = callers["organiser@unrcpd.example"]
    review_url = f"/api/v1/reviews/{REVIEW}"
    organiser.call(
        "POST",
        "/api/v1/reviews",
        "open the review",
        json={
            "slug": REVIEW,
            "title": REVIEW_TITLE,
            "states": ["BLR", "KGZ", "TJK"],
            "organisers": ["OSCE"],
            "observers": ["GOE"],
        },
    )
    for code, slug, texts, shared, metadata in DOCUMENTS:
        expert = callers[f"expert@{code.lower()}.example"]
        shas: list[str] = []
        for text, message in zip(texts, MESSAGES, strict=False):
            body: dict[str, Any] = {"content": text, "message": message, **metadata}
            if shas:
                body["base"] = shas[-1]
            saved = expert.call(
                "PUT", f"/api/v1/parties/{code}/documents/{slug}", f"save {slug}", json=body
            )
            shas.append(saved["version"]["commit"])
        for index in shared:
            expert.call(
                "POST",
                f"{review_url}/shares",
                f"share {slug}",
                json={"party": code, "slug": slug, "version": shas[index]},
            )
        report.versions[f"{code}/{slug}"] = shas
    callers["expert@blr.example"].call(
        "POST",
        "/api/v1/parties/BLR/documents/export-law/attachments",
        "attach the application form",
        query_string={"name": "application-form.txt"},
        data=BLR_ANNEX.encode(),
        content_type="text/plain; charset=utf-8",
    )
    blr_v2 = report.versions["BLR/export-law"][-1]
    kgz_v2 = report.versions["KGZ/control-list"][-1]
    tjk_v2 = report.versions["TJK/biosecurity-regulation"][-1]
    comments = [
        (
            "expert@kgz.example",
            {
                "party": "BLR",
                "slug": "export-law",
                "version": blr_v2,
                "quote": "тридцати дней",
                "body": "Предлагаем считать срок в рабочих днях и сократить его: "
                "экспортёрам нужна предсказуемость.",
            },
        ),
        (
            "expert@tjk.example",
            {
                "party": "KGZ",
                "slug": "control-list",
                "version": kgz_v2,
                "quote": "с дальностью не менее 300 км",
                "body": "Стоит ли добавить полезную нагрузку не менее 500 кг, как в режиме "
                "контроля за ракетной технологией?",
            },
        ),
        (
            "observer@goe.example",
            {
                "party": "TJK",
                "slug": "biosecurity-regulation",
                "version": tjk_v2,
                "quote": "within twenty-four hours",
                "body": "Good practice. Consider also naming who keeps the register of incidents.",
            },
        ),
    ]
    for email, data in comments:
        made = callers[email].call("POST", f"{review_url}/comments", "comment", json=data)
        report.comments += 1
        if data["party"] == "BLR":
            callers["expert@blr.example"].call(
                "POST",
                f"{review_url}/comments",
                "reply",
                json={"parent": made["id"], "body": "Согласны; исправим в следующей редакции."},
            )
            report.comments += 1
    for caller in callers.values():
        caller.close()


def seed_demo(config: Config, password: str = DEMO_PASSWORD) -> DemoReport:
    """Initialise the data directory if needed, then add the sample parties, users and review."""
    from server.app import create_app

    _initialise(config)
    app = create_app(config)
    try:
        _add_parties_and_users(app, password)
        report = DemoReport(str(config.data_dir), password)
        report.users = [(email, code or "", role) for email, code, role, _ in USERS]
        _seed_review(app.test_client(), password, report)
    finally:
        app.extensions["peerlex.db"].engine.dispose()
    return report
