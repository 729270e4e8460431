"""A stateful model of a review: random sequences of writes, shares, comments, status changes,
approvals and token revocations, checking after every step that nobody reads what they may
not see, every acknowledged version is in a linear history, and the audit log verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from keys.master import create_master_key
from server.app import create_app
from server.config import Config
from server.services.audit.verify import verify_audit_log
from tests.server.review_fixtures import USERS, ReviewWorld, seed_review_world
from tests.support.accounts import TEST_SCRYPT_N
from tests.support.api import Api, token_for

DOC = "/api/v1/parties/BLR/documents/export-law"
READERS = ("peer", "observer", "organiser", "outsider", "admin")
WORDS = ("экспорт", "лицензия", "контроль", "товары", "технологии", "орган")


class ReviewMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app: Flask | None = None
        self.world: ReviewWorld | None = None
        self.acked: list[str] = []
        self.shared: set[str] = set()
        self.comments: list[int] = []
        self.agreement = False

    @initialize(tmp=st.just(None))
    def start(self, tmp: None) -> None:
        import tempfile

        data = Path(tempfile.mkdtemp(prefix="peerlex-stateful-")) / "data"
        data.mkdir()
        create_master_key(data / "master.key")
        self.app = create_app(
            Config(data_dir=data, scrypt_n=TEST_SCRYPT_N, secure_cookies=False, require_mfa="none")
        )
        self.world = seed_review_world(self.app, self.app.test_client())

    def teardown(self) -> None:
        if self.app is not None:
            self.app.extensions["peerlex.db"].engine.dispose()

    @property
    def w(self) -> ReviewWorld:
        assert self.world is not None
        return self.world

    @rule(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), stale=st.booleans())
    def commit(self, words: list[str], stale: bool) -> None:
        text = "Статья 1. " + " ".join(words) + f".\n\nРедакция {len(self.acked)}.\n"
        body: dict[str, Any] = {"content": text, "message": "m"}
        if self.acked:
            body["base"] = self.acked[0] if stale and len(self.acked) > 1 else self.acked[-1]
        response = self.w["own"].put(DOC, json=body)
        if stale and len(self.acked) > 1:
            assert response.status_code == 409
            assert response.json["head"] == self.acked[-1]
        else:
            assert response.status_code in (200, 201), response.json
            version = response.json["version"]["commit"]
            if version != (self.acked[-1] if self.acked else None):
                self.acked.append(version)

    @precondition(lambda self: bool(self.acked))
    @rule(data=st.data())
    def share(self, data: st.DataObject) -> None:
        version = data.draw(st.sampled_from(self.acked))
        response = self.w.share(version)
        assert response.status_code in (200, 201), response.json
        self.shared.add(version)

    @precondition(lambda self: bool(self.shared))
    @rule(data=st.data(), role=st.sampled_from(["peer", "observer", "organiser", "own"]))
    def comment(self, data: st.DataObject, role: str) -> None:
        version = data.draw(st.sampled_from(sorted(self.shared)))
        response = self.w[role].post(
            self.w.url("/comments"),
            json={
                "party": "BLR",
                "slug": "export-law",
                "version": version,
                "quote": "Статья 1.",
                "body": "Please explain.",
            },
        )
        assert response.status_code == 201, response.json
        self.comments.append(response.json["id"])

    @precondition(lambda self: bool(self.comments))
    @rule(
        data=st.data(),
        role=st.sampled_from(["own", "peer", "observer", "organiser"]),
        status=st.sampled_from(["open", "resolved", "accepted", "rejected"]),
    )
    def set_status(self, data: st.DataObject, role: str, status: str) -> None:
        comment = data.draw(st.sampled_from(self.comments))
        response = self.w[role].patch(self.w.url(f"/comments/{comment}"), json={"status": status})
        assert response.status_code in (200, 403), response.json
        if role in ("own", "organiser"):
            assert response.status_code == 200

    @precondition(lambda self: not self.agreement and bool(self.shared))
    @rule()
    def to_agreement(self) -> None:
        response = self.w["organiser"].patch(self.w.url(), json={"state": "agreement"})
        assert response.status_code == 200
        self.agreement = True

    @precondition(lambda self: self.agreement and bool(self.shared))
    @rule()
    def approve(self) -> None:
        latest = self.w["organiser"].get(self.w.url("/shares")).json[-1]["version"]
        response = self.w["head"].post(
            self.w.url("/approvals"), json={"party": "BLR", "slug": "export-law", "version": latest}
        )
        assert response.status_code == 201, response.json

    @rule(role=st.sampled_from(["own", "peer", "observer", "organiser"]))
    def revoke_token(self, role: str) -> None:
        api = self.w[role]
        assert api.delete("/api/v1/auth/tokens").status_code == 204
        assert api.get("/api/v1/me").status_code == 401
        self.w.apis[role] = Api(api.client, token_for(api.client, USERS[role][0]))

    @invariant()
    def nobody_reads_what_they_may_not(self) -> None:
        if self.world is None:
            return
        for role in READERS:
            api = self.w[role]
            listed = api.get(f"{DOC}/versions")
            allowed = self.shared if role in ("peer", "observer", "organiser") else set()
            if not allowed:
                assert listed.status_code == 404
                continue
            assert {v["commit"] for v in listed.json} == allowed
            for version in set(self.acked) - allowed:
                assert api.get(DOC, query_string={"version": version}).status_code == 404

    @invariant()
    def history_is_linear_and_complete(self) -> None:
        if self.world is None or not self.acked:
            return
        versions = self.w["own"].get(f"{DOC}/versions").json
        commits = [v["commit"] for v in versions]
        assert commits == list(reversed(self.acked))
        assert all(v["signature"]["status"] == "good" for v in versions)

    @invariant()
    def audit_log_verifies(self) -> None:
        if self.app is None:
            return
        with self.app.app_context():
            assert verify_audit_log() == []


ReviewMachine.TestCase.settings = settings(
    max_examples=5,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
TestReviewMachine = ReviewMachine.TestCase
