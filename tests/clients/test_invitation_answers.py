"""An invitation answer is checked before its link is printed to be passed on."""

from __future__ import annotations

from typing import Any

import pytest

from clients.errors import ApiError
from clients.invitations import checked_invitation

GOOD: dict[str, Any] = {
    "id": 7,
    "email": "delegate@kgz.example",
    "party": "KGZ",
    "role": "expert",
    "invited_by": None,
    "created_at": "2026-01-01T00:00:00+00:00",
    "expires_at": "2026-01-08T00:00:00+00:00",
    "url": "https://peerlex.example.org/invitations/" + "A" * 43,
}


def test_a_well_formed_answer_passes() -> None:
    assert checked_invitation(GOOD, with_url=True) == GOOD
    assert checked_invitation({**GOOD, "url": "http://localhost:8000/invitations/" + "b" * 43})


@pytest.mark.parametrize(
    "url",
    [
        "https://x.example/invitations/" + "A" * 42,
        "https://x.example/invitations/" + "A" * 43 + "\x1b[2J",
        "https://x.example/invitations/" + "A" * 43 + "\n",
        "https://x.example/\u202einvitations/" + "A" * 43,
        "javascript:alert(1)//invitations/" + "A" * 43,
        "https://user@x.example/invitations/" + "A" * 43,
        "https://x.example/setup/" + "A" * 43,
        None,
        7,
    ],
)
def test_a_malformed_link_is_refused(url: Any) -> None:
    with pytest.raises(ApiError, match="invitation link"):
        checked_invitation({**GOOD, "url": url}, with_url=True)


@pytest.mark.parametrize(
    "change",
    [
        {"id": "7"},
        {"id": True},
        {"id": 0},
        {"id": 2**40},
        {"email": None},
        {"email": "x" * 1000},
        {"invited_by": 3},
        {"expires_at": []},
        {"mailed": "yes"},
    ],
)
def test_a_malformed_invitation_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ApiError):
        checked_invitation({**GOOD, **change})


@pytest.mark.parametrize("answer", [[], "x", None, 1])
def test_an_answer_that_is_no_object_is_refused(answer: Any) -> None:
    with pytest.raises(ApiError):
        checked_invitation(answer)
