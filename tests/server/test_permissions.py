"""Every route x every role -> the expected status. Deny by default; 404 where one may not see."""

from __future__ import annotations

import pytest

from tests.support.api import Api, DocFactory
from tests.support.ssh_user_keys import FINGERPRINT, PUBLIC_KEY

DOC = "/api/v1/parties/BLR/documents/export-law"
SIGNATURE = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
ROLES = ("anonymous", "own", "other", "organiser", "admin")
# method, url, body, expected status per role (anonymous, own expert, other State's expert,
# organiser, admin). Admins manage parties; they see no document by being admins.
TABLE = [
    ("GET", "/api/v1/me", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/parties", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/allowed_signers", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/healthz", None, (200, 200, 200, 200, 200)),
    # A listing shows only what the caller may read: empty for those with no share.
    ("GET", "/api/v1/parties/BLR/documents", None, (401, 200, 200, 200, 200)),
    ("GET", DOC, None, (401, 200, 404, 404, 404)),
    ("GET", f"{DOC}/versions", None, (401, 200, 404, 404, 404)),
    (
        "PUT",
        "/api/v1/parties/BLR/documents/new-law",
        {"content": "x", "message": "m"},
        (401, 201, 404, 404, 404),
    ),
    ("PUT", DOC, {"content": "x", "message": "m"}, (401, 409, 404, 404, 404)),
    ("DELETE", "/api/v1/auth/tokens", None, (401, 204, 204, 204, 204)),
    # With a token, logout revokes it (tests/server/test_auth.py).
    ("POST", "/api/v1/auth/logout", None, (401, 204, 204, 204, 204)),
    # The audit log's size is for organisers and admins (tests/server/test_audit.py).
    ("GET", "/api/v1/audit/checkpoint", None, (401, 403, 403, 200, 200)),
    ("GET", "/api/v1/audit/consistency?from=0", None, (401, 403, 403, 200, 200)),
    # Users' own keys: members who sign register them; admins sign nothing
    # (tests/server/test_user_keys.py). A party's key history is public to anyone signed in.
    ("POST", "/api/v1/me/keys", {"public_key": PUBLIC_KEY}, (401, 201, 201, 201, 403)),
    ("GET", "/api/v1/me/keys", None, (401, 200, 200, 200, 200)),
    ("DELETE", f"/api/v1/me/keys/{FINGERPRINT}", None, (401, 404, 404, 404, 404)),
    ("GET", "/api/v1/parties/BLR/keys", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/parties/ZZZ/keys", None, (401, 404, 404, 404, 404)),
    # Signing requests (tests/server/test_signed_writes.py): a State's writers ask; an unknown
    # request id is 404 to all. A re-wrap is for a State that holds its own keys (409 here).
    (
        "POST",
        "/api/v1/parties/BLR/documents/new-law/versions/requests",
        {"content": "x", "message": "m"},
        (401, 201, 404, 404, 404),
    ),
    (
        "POST",
        f"{DOC}/versions/requests/{'A' * 43}",
        {"signature": SIGNATURE},
        (401, 404, 404, 404, 404),
    ),
    ("GET", f"{DOC}/recipients", None, (401, 200, 404, 404, 404)),
    ("POST", f"{DOC}/attachments/0123456789abcdef/rewrap", None, (401, 409, 404, 404, 404)),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "expected"), TABLE, ids=[f"{m} {u}" for m, u, _, _ in TABLE]
)
@pytest.mark.parametrize("role", ROLES)
def test_permission_table(
    world: dict[str, Api],
    put_doc: DocFactory,
    role: str,
    method: str,
    url: str,
    body: object,
    expected: tuple[int, ...],
) -> None:
    assert put_doc("Статья 1.\n").status_code == 201
    response = world[role].request(method, url, json=body)
    assert response.status_code == expected[ROLES.index(role)], response.data


def test_not_found_answers_the_same_for_existing_and_missing(
    world: dict[str, Api], put_doc: DocFactory
) -> None:
    put_doc("Статья 1.\n")
    hidden = world["other"].get(DOC)
    missing = world["other"].get("/api/v1/parties/BLR/documents/no-such-law")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json == missing.json


@pytest.mark.parametrize("role", ["other", "organiser", "admin"])
def test_listing_shows_nothing_unshared(
    world: dict[str, Api], put_doc: DocFactory, role: str
) -> None:
    put_doc("Статья 1.\n")
    assert world[role].get("/api/v1/parties/BLR/documents").json == []
