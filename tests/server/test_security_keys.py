"""Security keys (WebAuthn): enrolling, signing in after the password step, and every way an
answer is refused (bad signature, wrong or spent challenge, counter gone back, wrong origin or
relying party, unknown key), which writes nothing and counts like a wrong code."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.config import Config
from server.db import db_session
from server.models import AuditEntry, MfaFactor, RecoveryCode, WebAuthnChallenge, utcnow
from server.services import security_keys
from server.signin import MAX_PAIR_FAILURES
from tests.server.test_mfa import problem_kind
from tests.server.test_signin import race
from tests.server.web.pages import csrf_of
from tests.support.accounts import PASSWORD
from tests.support.api import Api, token_for
from tests.support.second_factor import away_from_a_step_edge, code_at, deployment
from tests.support.software_key import SoftwareKey, b64url

HEAD = "head@blr.example"
EXPERT = "expert@blr.example"
ENROL_BEGIN = "/api/v1/me/mfa/webauthn/begin"
ENROL_FINISH = "/api/v1/me/mfa/webauthn/finish"
SIGN_IN_BEGIN = "/api/v1/auth/webauthn/begin"
SIGN_IN_FINISH = "/api/v1/auth/webauthn/finish"


@pytest.fixture
def keys_app(config: Config) -> Iterator[Flask]:
    with deployment(config, "roles", [(HEAD, "BLR", "head"), (EXPERT, "BLR", "expert")]) as app:
        yield app


@pytest.fixture
def web(keys_app: Flask) -> FlaskClient:
    return keys_app.test_client()


def enrol_key(api: Api, key: SoftwareKey, label: str = "blue key") -> Any:
    options = api.post(ENROL_BEGIN).json
    return api.post(ENROL_FINISH, json={"credential": key.registration(options), "label": label})


@pytest.fixture
def head(web: FlaskClient) -> Api:
    """The head, who must hold a second factor, through a token made before they held one."""
    return Api(web, token_for(web, HEAD))


@pytest.fixture
def head_key(head: Api) -> SoftwareKey:
    """The head's security key, enrolled."""
    key = SoftwareKey()
    assert enrol_key(head, key).status_code == 201
    return key


class SignIn:
    """A browser at the second step of the web sign-in: the password was right."""

    def __init__(self, client: FlaskClient, email: str = HEAD, address: str = "10.0.0.1") -> None:
        self.client, self.address = client, address
        token = csrf_of(client.get("/sign-in").text)
        form = {"email": email, "password": PASSWORD, "csrf_token": token}
        answer = client.post("/sign-in", data=form, environ_base=self.environ)
        assert answer.status_code == 303, answer.text
        self.csrf = csrf_of(client.get("/sign-in/second-factor").text)

    @property
    def environ(self) -> dict[str, str]:
        return {"REMOTE_ADDR": self.address}

    def post(self, url: str, body: Any = None) -> Any:
        headers = {"X-CSRFToken": self.csrf}
        return self.client.post(url, json=body, headers=headers, environ_base=self.environ)

    def options(self) -> dict[str, Any]:
        answer = self.post(SIGN_IN_BEGIN)
        assert answer.status_code == 200, answer.json
        found: dict[str, Any] = answer.json
        return found

    def finish(self, credential: dict[str, Any]) -> Any:
        return self.post(SIGN_IN_FINISH, {"credential": credential})


def rows(app: Flask) -> tuple[Any, ...]:
    """Everything a security-key write changes, to show a refusal wrote nothing."""
    with app.app_context():
        session = db_session()
        factors = session.execute(
            select(MfaFactor.id, MfaFactor.credential_id, MfaFactor.sign_count, MfaFactor.label)
        ).all()
        codes = session.execute(select(RecoveryCode.id, RecoveryCode.used_at)).all()
        challenges = session.execute(select(WebAuthnChallenge.challenge_hash)).all()
        audit = session.scalar(select(func.count(AuditEntry.id)))
        return tuple(factors), tuple(codes), tuple(challenges), audit


def stored_count(app: Flask, key: SoftwareKey) -> int:
    with app.app_context():
        query = select(MfaFactor.sign_count).where(MfaFactor.credential_id == key.id)
        return int(db_session().scalar(query) or 0)


# -- enrolling ---------------------------------------------------------------------------------


def test_enrolling_a_first_key_gives_ten_recovery_codes_and_a_second_none(
    web: FlaskClient, keys_app: Flask
) -> None:
    head = Api(web, token_for(web, HEAD))
    options = head.post(ENROL_BEGIN).json["publicKey"]
    assert options["rp"] == {"id": "localhost", "name": "peerlex"}
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["excludeCredentials"] == []
    assert HEAD not in options["user"]["id"]
    first, second = SoftwareKey(), SoftwareKey()
    enrolled = enrol_key(head, first)
    assert enrolled.status_code == 201, enrolled.json
    assert len(enrolled.json["recovery_codes"]) == 10
    # Enrolled, the head may use the API again.
    assert head.get("/api/v1/reviews").status_code == 200
    again = head.post(ENROL_BEGIN).json["publicKey"]
    assert [c["id"] for c in again["excludeCredentials"]] == [first.id]
    assert again["excludeCredentials"][0]["transports"] == ["usb"]
    added = enrol_key(head, second, "laptop")
    assert added.status_code == 201
    assert added.json["recovery_codes"] == []
    listed = head.get("/api/v1/me/mfa").json
    assert [(f["kind"], f["label"]) for f in listed["factors"]] == [
        ("webauthn", "blue key"),
        ("webauthn", "laptop"),
    ]
    assert listed["recovery_codes_left"] == 10
    with keys_app.app_context():
        query = select(AuditEntry.action).where(AuditEntry.action.like("mfa.%"))
        assert list(db_session().scalars(query)) == ["mfa.enrol", "mfa.enrol"]


def test_a_key_enrolled_already_is_refused(
    head: Api, keys_app: Flask, head_key: SoftwareKey
) -> None:
    before = rows(keys_app)
    again = enrol_key(head, head_key)
    assert again.status_code == 409
    assert problem_kind(again) == "key-enrolled"
    assert rows(keys_app)[:2] == before[:2]


def test_an_enrolment_answer_is_accepted_once(web: FlaskClient, keys_app: Flask) -> None:
    expert = Api(web, token_for(web, EXPERT))
    key = SoftwareKey()
    credential = key.registration(expert.post(ENROL_BEGIN).json)
    assert expert.post(ENROL_FINISH, json={"credential": credential}).status_code == 201
    expert.delete(f"/api/v1/me/mfa/{expert.get('/api/v1/me/mfa').json['factors'][0]['id']}")
    replayed = expert.post(ENROL_FINISH, json={"credential": credential})
    assert replayed.status_code in (409, 422)


# -- signing in --------------------------------------------------------------------------------


def test_password_then_security_key_signs_in(
    web: FlaskClient, keys_app: Flask, head_key: SoftwareKey
) -> None:
    step = SignIn(web)
    assert 'id="security-key"' in web.get("/sign-in/second-factor").text
    assert web.get("/reviews", environ_base=step.environ).status_code == 302
    done = step.finish(head_key.assertion(step.options()))
    assert done.status_code == 200, done.json
    assert done.json["next"] == "/reviews"
    assert web.get("/reviews", environ_base=step.environ).status_code == 200
    assert stored_count(keys_app, head_key) == 1
    # The password step is spent with the session that started.
    step.csrf = csrf_of(web.get("/reviews", environ_base=step.environ).text)
    assert step.post(SIGN_IN_BEGIN).status_code == 401


def test_the_second_step_page_offers_a_key_only_to_whoever_has_one(
    web: FlaskClient, keys_app: Flask
) -> None:
    expert = Api(web, token_for(web, EXPERT))
    started = expert.post("/api/v1/me/mfa/totp", json={})
    assert started.status_code == 201
    code = code_at(started.json["secret"], away_from_a_step_edge())
    assert expert.post("/api/v1/me/mfa/totp/confirm", json={"code": code}).status_code == 200
    SignIn(web, EXPERT)
    page = web.get("/sign-in/second-factor").text
    assert 'id="security-key"' not in page
    assert SignIn(web, EXPERT).post(SIGN_IN_BEGIN).status_code == 409


def test_a_replayed_assertion_is_refused(web: FlaskClient, head_key: SoftwareKey) -> None:
    step = SignIn(web)
    assertion = head_key.assertion(step.options())
    assert step.finish(assertion).status_code == 200
    again = SignIn(web)
    replayed = again.finish(assertion)
    assert replayed.status_code == 422
    assert problem_kind(replayed) == "security-key-refused"
    assert "challenge" in replayed.json["detail"]


def test_an_answer_to_another_challenge_is_refused(
    web: FlaskClient, keys_app: Flask, head_key: SoftwareKey
) -> None:
    step = SignIn(web)
    step.options()
    made_up = {"publicKey": {"challenge": b64url(b"not the challenge the server made")}}
    before = rows(keys_app)
    refused = step.finish(head_key.assertion(made_up))
    assert refused.status_code == 422
    assert problem_kind(refused) == "security-key-refused"
    assert rows(keys_app) == before


def test_a_bad_signature_is_refused(
    web: FlaskClient, keys_app: Flask, head_key: SoftwareKey
) -> None:
    step = SignIn(web)
    options, other = step.options(), ec.generate_private_key(ec.SECP256R1())
    before = rows(keys_app)
    refused = step.finish(head_key.assertion(options, signer=other))
    assert refused.status_code == 422
    assert "does not verify" in refused.json["detail"]
    assert rows(keys_app) == before
    assert web.get("/reviews", environ_base=step.environ).status_code == 302


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [
        ("https://peerlex.example.org", "localhost"),
        ("http://localhost.evil.example:5000", "localhost"),
        ("http://127.0.0.1:5000", "localhost"),
        ("http://localhost:5000", "peerlex.example.org"),
    ],
)
def test_a_wrong_origin_or_relying_party_is_refused(
    web: FlaskClient, keys_app: Flask, head_key: SoftwareKey, origin: str, rp_id: str
) -> None:
    step = SignIn(web)
    options = step.options()
    before = rows(keys_app)
    refused = step.finish(head_key.assertion(options, origin=origin, rp_id=rp_id))
    assert refused.status_code == 422
    assert problem_kind(refused) == "security-key-refused"
    assert rows(keys_app) == before


def test_a_counter_that_went_back_is_refused_as_a_copy(
    web: FlaskClient, keys_app: Flask, head_key: SoftwareKey
) -> None:
    for _ in range(2):
        step = SignIn(web)
        assert step.finish(head_key.assertion(step.options())).status_code == 200
    assert stored_count(keys_app, head_key) == 2
    head_key.sign_count = 0  # a copy made before the last use: it answers 1 next
    step = SignIn(web)
    refused = step.finish(head_key.assertion(step.options()))
    assert refused.status_code == 422
    assert "may have been copied" in refused.json["detail"]
    head_key.sign_count = 1  # a copy that answers the same count again
    step = SignIn(web)
    assert step.finish(head_key.assertion(step.options())).status_code == 422
    assert stored_count(keys_app, head_key) == 2


def test_an_authenticator_without_a_counter_signs_in_each_time(
    web: FlaskClient, keys_app: Flask, head: Api
) -> None:
    key = SoftwareKey(counting=False)
    assert enrol_key(head, key).status_code == 201
    for _ in range(2):
        step = SignIn(web)
        assert step.finish(key.assertion(step.options())).status_code == 200
    assert stored_count(keys_app, key) == 0


def test_someone_elses_key_is_refused(web: FlaskClient, head_key: SoftwareKey) -> None:
    expert_key = SoftwareKey()
    assert enrol_key(Api(web, token_for(web, EXPERT)), expert_key).status_code == 201
    step = SignIn(web)
    refused = step.finish(expert_key.assertion(step.options()))
    assert refused.status_code == 422
    assert "not one of yours" in refused.json["detail"]


def test_an_expired_challenge_is_refused(
    web: FlaskClient, head_key: SoftwareKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = SignIn(web)
    options = step.options()
    later = utcnow() + security_keys.CHALLENGE_FOR + timedelta(seconds=1)
    monkeypatch.setattr(security_keys, "utcnow", lambda: later)
    assert step.finish(head_key.assertion(options)).status_code == 422


def test_refused_answers_count_towards_the_lockout(web: FlaskClient, head_key: SoftwareKey) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    step = SignIn(web)
    options = step.options()
    statuses = [
        step.finish(head_key.assertion(options, signer=other)).status_code
        for _ in range(MAX_PAIR_FAILURES - 1)
    ]
    # The password step counts until its second factor is right, as with a code: with it,
    # the refusals reach the limit, and then even a right answer is not looked at.
    assert statuses == [422] * (MAX_PAIR_FAILURES - 1)
    assert step.finish(head_key.assertion(options)).status_code == 429


def test_one_assertion_is_accepted_once_by_racing_requests(
    keys_app: Flask, head_key: SoftwareKey
) -> None:
    clients = [keys_app.test_client() for _ in range(4)]
    steps = [SignIn(client, address=f"10.0.0.{n}") for n, client in enumerate(clients)]
    options = steps[0].options()
    assertion = head_key.assertion(options)
    statuses = race(4, lambda n: int(steps[n].finish(assertion).status_code))
    # Each client's own password step accepts the challenge of the user; one claims it.
    assert statuses[200] == 1
    assert statuses[422] == 3


# -- bad input writes nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"credential": "x"},
        {"credential": {}},
        {"credential": {"response": []}},
        {"credential": {"response": {"clientDataJSON": 5}}},
        {"credential": {"response": {"clientDataJSON": "!!!"}}},
        {"credential": {"response": {"clientDataJSON": b64url(b"[1]")}}},
        {"credential": {"response": {"clientDataJSON": b64url(b'{"challenge": 1}')}}},
        {"credential": {"x": "y" * 70_000}},
        {"credential": {}, "label": "two\nlines"},
        {"credential": {}, "label": "x" * 201},
        {"credential": {}, "other": 1},
    ],
)
def test_bad_enrolment_input_is_refused_and_writes_nothing(
    head: Api, keys_app: Flask, head_key: SoftwareKey, body: Any
) -> None:
    before = rows(keys_app)
    answer = head.post(ENROL_FINISH, json=body)
    assert answer.status_code == 422, answer.json
    assert answer.mimetype == "application/problem+json"
    assert rows(keys_app) == before


def test_a_malformed_attestation_is_refused(head: Api, keys_app: Flask) -> None:
    credential = SoftwareKey().registration(head.post(ENROL_BEGIN).json)
    credential["response"]["attestationObject"] = b64url(b"not cbor")
    before = rows(keys_app)
    answer = head.post(ENROL_FINISH, json={"credential": credential})
    assert answer.status_code == 422
    assert problem_kind(answer) == "security-key-refused"
    assert rows(keys_app) == before


def test_bad_sign_in_input_is_refused_and_writes_nothing(
    web: FlaskClient, keys_app: Flask, head_key: SoftwareKey
) -> None:
    step = SignIn(web)
    options = step.options()
    before = rows(keys_app)
    bodies: list[Any] = [None, {}, {"credential": []}, {"credential": {"id": 5}}]
    for body in bodies:
        answer = step.post(SIGN_IN_FINISH, body)
        assert answer.status_code == 422
        assert answer.mimetype == "application/problem+json"
    long_id = {**head_key.assertion(options), "id": "A" * 2000}
    assert step.finish(long_id).status_code == 422
    assert rows(keys_app) == before


def test_signing_in_with_a_key_needs_the_password_step_and_its_csrf_token(
    web: FlaskClient, head_key: SoftwareKey
) -> None:
    answer = web.post(SIGN_IN_BEGIN)
    assert answer.status_code in (400, 401)
    step = SignIn(web)
    forged = web.post(SIGN_IN_BEGIN, environ_base=step.environ)
    assert forged.status_code == 400
    assert step.post(SIGN_IN_BEGIN).status_code == 200
    fresh = web.application.test_client()
    token = csrf_of(fresh.get("/sign-in").text)
    without_step = fresh.post(SIGN_IN_BEGIN, headers={"X-CSRFToken": token})
    assert without_step.status_code == 401
    assert without_step.mimetype == "application/problem+json"


# -- removing, and the relying party -----------------------------------------------------------


def test_a_key_is_removed_with_a_recovery_code(web: FlaskClient, keys_app: Flask) -> None:
    expert = Api(web, token_for(web, EXPERT))
    codes = enrol_key(expert, SoftwareKey()).json["recovery_codes"]
    factor = expert.get("/api/v1/me/mfa").json["factors"][0]
    assert expert.delete(f"/api/v1/me/mfa/{factor['id']}", json={"code": "123456"}).status_code
    assert (
        expert.delete(f"/api/v1/me/mfa/{factor['id']}", json={"code": codes[0]}).status_code == 204
    )
    assert expert.get("/api/v1/me/mfa").json["factors"] == []


def test_the_relying_party_comes_from_the_public_url(config: Config) -> None:
    public = Config.from_env({"PEERLEX_PUBLIC_URL": "https://peerlex.example.org/"})
    assert public.webauthn_rp_id == "peerlex.example.org"
    assert public.webauthn_origin_allowed("https://peerlex.example.org")
    assert not public.webauthn_origin_allowed("http://localhost:5000")
    assert not public.webauthn_origin_allowed("https://evil.example")
    local = dataclasses.replace(config, public_url=None)
    assert local.webauthn_rp_id == "localhost"
    assert local.webauthn_origin_allowed("http://localhost:8123")
    assert not local.webauthn_origin_allowed("http://127.0.0.1:8123")


@pytest.mark.parametrize(
    "value",
    [
        "https://10.0.0.1",
        "https://[::1]:8443",
        "http://peerlex.example.org",
        "https://peerlex.example.org/peerlex",
        "peerlex.example.org",
    ],
)
def test_a_public_url_webauthn_cannot_use_stops_the_start(value: str) -> None:
    with pytest.raises(ValueError, match="PEERLEX_PUBLIC_URL"):
        Config.from_env({"PEERLEX_PUBLIC_URL": value})


# -- the security keys page --------------------------------------------------------------------


def test_the_page_lists_adds_and_removes_ones_own_keys(
    web: FlaskClient, keys_app: Flask, head_key: SoftwareKey
) -> None:
    expert = Api(web, token_for(web, EXPERT))
    expert_key = SoftwareKey()
    codes = enrol_key(expert, expert_key, "grey key").json["recovery_codes"]
    head_factor = expert_factor = 0
    with keys_app.app_context():
        found = db_session().execute(select(MfaFactor.credential_id, MfaFactor.id)).all()
        ids = dict(found)
        head_factor, expert_factor = ids[head_key.id], ids[expert_key.id]
    step = SignIn(web, EXPERT)
    assert step.finish(expert_key.assertion(step.options())).status_code == 200
    page = web.get("/account/security-keys", environ_base=step.environ)
    assert page.status_code == 200
    assert "<td>grey key</td>" in page.text
    assert "<td>blue key</td>" not in page.text
    assert 'data-begin="/api/v1/me/mfa/webauthn/begin"' in page.text
    token = csrf_of(page.text)

    def remove(factor_id: int, code: str) -> Any:
        url = f"/account/security-keys/{factor_id}/remove"
        form = {"code": code, "csrf_token": token}
        answer = web.post(url, data=form, environ_base=step.environ)
        if answer.status_code != 303:
            return answer
        assert answer.headers["Location"] == "/account/security-keys"
        return web.get("/account/security-keys", environ_base=step.environ)

    assert remove(head_factor, codes[0]).status_code == 404
    assert "Wrong code" in remove(expert_factor, "000000").text
    removed = remove(expert_factor, codes[0])
    assert "The security key was removed." in removed.text
    assert "You have no security key yet." in removed.text


def test_a_user_keeps_a_few_challenges_waiting_at_most(head: Api, keys_app: Flask) -> None:
    for _ in range(security_keys.MAX_WAITING + 3):
        assert head.post(ENROL_BEGIN).status_code == 200
    with keys_app.app_context():
        waiting = db_session().scalar(select(func.count(WebAuthnChallenge.id)))
    assert waiting == security_keys.MAX_WAITING


def test_whoever_must_enrol_reaches_the_keys_page_and_nothing_else(web: FlaskClient) -> None:
    token = csrf_of(web.get("/sign-in").text)
    form = {"email": HEAD, "password": PASSWORD, "csrf_token": token}
    assert web.post("/sign-in", data=form).status_code == 302
    assert web.get("/account/security-keys").status_code == 200
    # Any other page leads to the security page, which says why and links here.
    led = web.get("/reviews")
    assert led.status_code == 303
    assert led.headers["Location"].endswith("/account/security")
    assert 'href="/account/security-keys"' in web.get("/account/security").text
    refused = web.get("/api/v1/reviews")
    assert problem_kind(refused) == "mfa-enrolment-required"
    assert "/account/security-keys" in refused.get_json()["detail"]
