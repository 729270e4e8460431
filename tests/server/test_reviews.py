"""The peer exchange end to end: share, read, comment, revise, and comments that follow."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.review_fixtures import LAW_V1, LAW_V2, LAW_V3, ReviewWorld

DOC = "/api/v1/parties/BLR/documents/export-law"


def comment(
    world: ReviewWorld, role: str, version: str, quote: str, body: str, **extra: Any
) -> Any:
    payload = {
        "party": "BLR",
        "slug": "export-law",
        "version": version,
        "quote": quote,
        "body": body,
        **extra,
    }
    return world[role].post(world.url("/comments"), json=payload)


def comments_on(world: ReviewWorld, role: str, version: str) -> Any:
    """The comments on BLR's law at version, as role sees them."""
    query = {"party": "BLR", "slug": "export-law", "version": version}
    return world[role].get(world.url("/comments"), query_string=query).json


def test_the_whole_review_story(review_world: ReviewWorld) -> None:
    world = review_world
    v1, v2 = world.push(LAW_V1), world.push(LAW_V2)
    assert world.share(v1).status_code == 201
    assert world.share(v2).status_code == 201
    assert world.share(v2).status_code == 200  # sharing twice is harmless

    # The peer and the observer read exactly the shared versions.
    for role in ("peer", "observer", "organiser", "third"):
        versions = world[role].get(f"{DOC}/versions").json
        assert [v["commit"] for v in versions] == [v2, v1], role
        assert world[role].get(DOC).json["version"]["commit"] == v2

    unchanged = "экспорт товаров двойного назначения"
    moved = "Таможенные органы проверяют документы при вывозе товаров."
    reworded = "Лицензия выдаётся уполномоченным органом в течение тридцати дней"
    deleted = "За нарушение настоящего Закона наступает административная ответственность."
    made = {}
    for role, quote in [
        ("peer", unchanged),
        ("observer", moved),
        ("peer", reworded),
        ("observer", deleted),
    ]:
        response = comment(world, role, v2, quote, f"Comment on: {quote}")
        assert response.status_code == 201, response.json
        assert response.json["anchor"]["status"] == "current"
        made[quote] = response.json["id"]
    reply = world["own"].post(
        world.url("/comments"), json={"parent": made[reworded], "body": "We will shorten it."}
    )
    assert reply.status_code == 201
    assert reply.json["quote"] == reworded

    v3 = world.push(LAW_V3)
    # Until v3 is shared, peers cannot see it through any route.
    assert world["peer"].get(DOC, query_string={"version": v3}).status_code == 404
    assert (
        world["peer"]
        .get(
            world.url("/comments"),
            query_string={"party": "BLR", "slug": "export-law", "version": v3},
        )
        .status_code
        == 404
    )
    assert world.share(v3).status_code == 201

    listed = comments_on(world, "peer", v3)
    status = {c["quote"]: c["anchor"]["status"] for c in listed if c["parent"] is None}
    assert status == {
        unchanged: "current",
        moved: "moved",
        reworded: "changed",
        deleted: "orphaned",
    }
    by_id = {c["id"]: c for c in listed}
    assert by_id[reply.json["id"]]["anchor"]["status"] == "changed"  # replies follow their root
    changed = by_id[made[reworded]]["anchor"]
    assert "двадцати рабочих дней" in changed["quote"]
    assert changed["block"] == "art_2__para_2"
    assert by_id[made[deleted]]["anchor"]["quote"] == deleted  # orphaned keeps its quote
    # Asking again answers from the cache with the same result.
    again = comments_on(world, "observer", v3)
    assert [c["anchor"] for c in again] == [c["anchor"] for c in listed]

    # Status changes: the owning State accepts, the author resolves, the observer may not.
    peer_comment = made[unchanged]
    patch = world.url(f"/comments/{peer_comment}")
    assert world["observer"].patch(patch, json={"status": "resolved"}).status_code == 403
    assert world["own"].patch(patch, json={"status": "accepted"}).json["status"] == "accepted"
    assert world["peer"].patch(patch, json={"status": "resolved"}).json["status"] == "resolved"
    assert world["peer"].patch(patch, json={"body": "Edited."}).json["body"] == "Edited."
    assert world["own"].patch(patch, json={"body": "Not mine"}).status_code == 403
    open_only = world["peer"].get(world.url("/comments"), query_string={"status": "resolved"}).json
    assert [c["id"] for c in open_only] == [peer_comment]

    # The review moves on; its organisers alone move it.
    assert world["own"].patch(world.url(), json={"state": "agreement"}).status_code == 403
    assert world["organiser"].patch(world.url(), json={"state": "agreement"}).json["state"] == (
        "agreement"
    )
    assert world["organiser"].patch(world.url(), json={"state": "agreement"}).status_code == 409


def test_every_write_is_audited(review_world: ReviewWorld, app: Any) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    world.share(v1)
    comment(world, "peer", v1, "экспорт", "why?")
    from server.db import db_session
    from server.models import AuditEntry

    with app.app_context():
        entries = db_session().query(AuditEntry).order_by(AuditEntry.id).all()
        actions = [e.action for e in entries]
        assert actions == ["review.create", "document.save", "share.create", "comment.create"]
        assert all(len(e.request_id) == 32 and e.user_email for e in entries)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"quote": "this sentence is not in the law"}, 422),
        ({"body": "x" * 20_001}, 422),
        ({"body": ""}, 422),
        ({"body": "looks fine \u202e txet neddih"}, 422),
        ({"version": "f" * 40}, 422),
        ({"slug": "other-law"}, 422),
        ({"unknown": 1}, 422),
        ({"quote": None}, 422),
    ],
)
def test_bad_comments_are_refused(
    review_world: ReviewWorld, payload: dict[str, Any], status: int
) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    world.share(v1)
    body = {
        "party": "BLR",
        "slug": "export-law",
        "version": v1,
        "quote": "экспорт",
        "body": "A comment",
        **payload,
    }
    before = world["peer"].get(world.url("/comments")).json
    response = world["peer"].post(world.url("/comments"), json=body)
    assert response.status_code == status, response.json
    assert world["peer"].get(world.url("/comments")).json == before


def test_parent_from_another_review_is_refused(review_world: ReviewWorld) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    world.share(v1)
    first = comment(world, "peer", v1, "экспорт", "first").json["id"]
    world["organiser"].post(
        "/api/v1/reviews", json={"slug": "minsk-2016", "title": "Minsk", "states": ["BLR", "KGZ"]}
    )
    response = world["peer"].post(
        "/api/v1/reviews/minsk-2016/comments", json={"parent": first, "body": "reply"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("who", "payload", "status"),
    [
        ("own", {"party": "KGZ"}, 403),  # another State's document
        ("peer", {}, 403),  # a peer cannot share for BLR
        ("own", {"version": "e" * 40}, 422),  # not in the history
        ("own", {"slug": "no-such-law"}, 422),
        ("own", {"party": "UZB"}, 403),
    ],
)
def test_bad_shares_are_refused(
    review_world: ReviewWorld, who: str, payload: dict[str, Any], status: int
) -> None:
    world = review_world
    v1 = world.push(LAW_V1)
    body = {"party": "BLR", "slug": "export-law", "version": v1, **payload}
    response = world[who].post(world.url("/shares"), json=body)
    assert response.status_code == status, response.json
    assert world["own"].get(world.url("/shares")).json == []


def test_share_of_a_version_of_another_document_is_refused(review_world: ReviewWorld) -> None:
    world = review_world
    world.push(LAW_V1)
    other = (
        world["own"]
        .put(
            "/api/v1/parties/BLR/documents/action-plan",
            json={"content": "План действий", "message": "m"},
        )
        .json
    )
    response = world["own"].post(
        world.url("/shares"),
        json={"party": "BLR", "slug": "export-law", "version": other["version"]["commit"]},
    )
    assert response.status_code == 422
