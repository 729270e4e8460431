"""Every review, share and comment route x every relation to the review -> expected status."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.review_fixtures import LAW_V1, LAW_V2, ReviewWorld

ROLES = (
    "own",
    "peer",
    "outsider",
    "organiser",
    "other_organiser",
    "observer",
    "admin",
    "anonymous",
)
NEW_REVIEW = {"slug": "tashkent-2018", "title": "Tashkent 2018", "states": ["BLR"]}
# own: an expert of the State whose document it is; peer: an expert of another State in the
# review; outsider: a State not in the review; other_organiser: organiser of no such review.
TABLE: list[tuple[str, str, Any, tuple[int, ...]]] = [
    ("GET", "/api/v1/reviews", None, (200, 200, 200, 200, 200, 200, 200, 401)),
    ("POST", "/api/v1/reviews", NEW_REVIEW, (403, 403, 403, 201, 201, 403, 403, 401)),
    ("GET", "{review}", None, (200, 200, 404, 200, 404, 200, 404, 401)),
    ("PATCH", "{review}", {"state": "agreement"}, (403, 403, 404, 200, 404, 403, 404, 401)),
    ("GET", "{review}/shares", None, (200, 200, 404, 200, 404, 200, 404, 401)),
    ("POST", "{review}/shares", "share-v2", (201, 403, 404, 403, 404, 403, 404, 401)),
    ("GET", "{review}/comments", None, (200, 200, 404, 200, 404, 200, 404, 401)),
    ("POST", "{review}/comments", "comment", (201, 201, 404, 201, 404, 201, 404, 401)),
    (
        "PATCH",
        "{review}/comments/{comment}",
        {"status": "resolved"},
        (200, 200, 404, 200, 404, 403, 404, 401),
    ),
    (
        "PATCH",
        "{review}/comments/{comment}",
        {"status": "accepted"},
        (200, 403, 404, 200, 404, 403, 404, 401),
    ),
    (
        "PATCH",
        "{review}/comments/{comment}",
        {"body": "edited"},
        (403, 200, 404, 403, 404, 403, 404, 401),
    ),
    (
        "GET",
        "/api/v1/parties/BLR/documents/export-law",
        None,
        (200, 200, 404, 200, 404, 200, 404, 401),
    ),
    (
        "GET",
        "/api/v1/parties/BLR/documents/export-law/versions",
        None,
        (200, 200, 404, 200, 404, 200, 404, 401),
    ),
    # Only a State's head asks to approve (tests/server/test_signed_writes.py); an unknown
    # request is 404 to all who see the review.
    ("POST", "{review}/approvals/requests", "approve-v1", (403, 403, 404, 403, 404, 403, 404, 401)),
    (
        "POST",
        "{review}/approvals/requests/" + "A" * 43,
        {"signature": "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"},
        (404, 404, 404, 404, 404, 404, 404, 401),
    ),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "expected"),
    TABLE,
    ids=[f"{m} {u} {b if isinstance(b, str) else ''}" for m, u, b, _ in TABLE],
)
@pytest.mark.parametrize("role", ROLES)
def test_review_permission_table(
    review_world: ReviewWorld,
    role: str,
    method: str,
    url: str,
    body: Any,
    expected: tuple[int, ...],
) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    assert world.share(v1).status_code == 201
    made = world["peer"].post(
        world.url("/comments"),
        json={
            "party": "BLR",
            "slug": "export-law",
            "version": v1,
            "quote": "экспорт",
            "body": "Please explain.",
        },
    )
    assert made.status_code == 201
    if body == "approve-v1":
        body = {"party": "BLR", "slug": "export-law", "version": v1}
    elif body == "share-v2":
        body = {"party": "BLR", "slug": "export-law", "version": v2}
    elif body == "comment":
        body = {
            "party": "BLR",
            "slug": "export-law",
            "version": v1,
            "quote": "лицензии",
            "body": "Which licence?",
        }
    target = url.format(review=world.url(), comment=made.json["id"])
    response = world[role].request(method, target, json=body)
    assert response.status_code == expected[ROLES.index(role)], response.json


def test_unshared_version_is_invisible_to_peers_everywhere(review_world: ReviewWorld) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    world.share(v1)
    doc = "/api/v1/parties/BLR/documents/export-law"
    for role in ("peer", "observer", "organiser"):
        api = world[role]
        assert api.get(doc, query_string={"version": v2}).status_code == 404
        assert api.get(doc).json["version"]["commit"] == v1
        assert api.get(doc).json["version"]["parent"] is None
        assert [v["commit"] for v in api.get(f"{doc}/versions").json] == [v1]
        listing = api.get("/api/v1/parties/BLR/documents").json
        assert [d["version"]["commit"] for d in listing] == [v1]
        assert (
            api.get(
                world.url("/comments"),
                query_string={"party": "BLR", "slug": "export-law", "version": v2},
            ).status_code
            == 404
        )
        assert (
            api.post(
                world.url("/comments"),
                json={
                    "party": "BLR",
                    "slug": "export-law",
                    "version": v2,
                    "quote": "экспорт",
                    "body": "x",
                },
            ).status_code
            == 422
        )
    assert world["own"].get(doc, query_string={"version": v2}).status_code == 200
