"""Seed an empty data directory with a sample review, through the API, to try peerlex on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.config import Config
from server.data_dir import prepare_data_dir
from server.db import db_session
from server.models import Party, User
from server.permissions import must_enrol_second_factor
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

# party, slug, which versions to share, metadata; the texts of the versions are the files
# server/demo_data/<party>-<slug>-v<n>.md, one for each of MESSAGES.
DOCUMENTS: list[tuple[str, str, list[int], dict[str, str]]] = [
    (
        "BLR",
        "export-law",
        [0, 1],
        {"title": "Закон «Об экспортном контроле»", "kind": "law", "language": "ru"},
    ),
    (
        "KGZ",
        "control-list",
        [0, 1],
        {"title": "Национальный контрольный список", "kind": "control-list", "language": "ru"},
    ),
    (
        "TJK",
        "biosecurity-regulation",
        [1],
        {
            "title": "Regulation on the Biosafety and Biosecurity of Dangerous Pathogens",
            "kind": "regulation",
            "language": "en",
        },
    ),
]
MESSAGES = ["First draft", "Draft after the interagency consultation"]
# The attachment BLR adds to its law: an application form, in server/demo_data/.
ANNEX = "blr-application-form.txt"


def sample_text(name: str) -> str:
    """One of the demo's sample texts, from the files installed with the package."""
    return resources.files("server.demo_data").joinpath(name).read_text(encoding="utf-8")


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
    require_mfa: str = "none"
    # Who must enrol a second factor before anything else, under require_mfa.
    must_enrol: list[str] = field(default_factory=list)

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
        return out + self.enrolment_lines()

    def enrolment_lines(self) -> list[str]:
        """How each account that must hold a second factor enrols one, if any must."""
        if not self.must_enrol:
            return []
        out = [
            "",
            f"with PEERLEX_REQUIRE_MFA={self.require_mfa}, these accounts must enrol an "
            "authenticator app before anything else; on the command line:",
        ]
        out += [f"  peerlex login --email {who} && peerlex mfa enrol" for who in self.must_enrol]
        out += [
            "`peerlex mfa enrol` shows the secret (and an otpauth:// URI for a QR code), asks for "
            "the code the app then shows and prints ten recovery codes, once; on the web pages, "
            "signing in as one of them leads through the same enrolment first.",
            "To try the demo without second factors, run it with PEERLEX_REQUIRE_MFA=none.",
        ]
        return out


def _must_enrol(app: Flask, require_mfa: str) -> list[str]:
    """The demo users who must enrol a second factor under the deployment's setting."""
    with app.app_context():
        users = db_session().scalars(select(User).order_by(User.id))
        return [u.email for u in users if must_enrol_second_factor(u, require_mfa)]


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
    for code, slug, shared, metadata in DOCUMENTS:
        expert = callers[f"expert@{code.lower()}.example"]
        shas: list[str] = []
        for number, message in enumerate(MESSAGES, start=1):
            text = sample_text(f"{code.lower()}-{slug}-v{number}.md")
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
        data=sample_text(ANNEX).encode(),
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

    # As `peerlex-server init --if-missing` would.
    config.data_dir.mkdir(parents=True, exist_ok=True)
    prepare_data_dir(config)
    # The demo's own heads and organisers write the sample review before anyone could have
    # enrolled a second factor; the running server asks for one as its configuration says.
    app = create_app(replace(config, require_mfa="none"))
    try:
        _add_parties_and_users(app, password)
        report = DemoReport(str(config.data_dir), password, require_mfa=config.require_mfa)
        report.users = [(email, code or "", role) for email, code, role, _ in USERS]
        report.must_enrol = _must_enrol(app, config.require_mfa)
        _seed_review(app.test_client(), password, report)
    finally:
        app.extensions["peerlex.db"].engine.dispose()
    return report
