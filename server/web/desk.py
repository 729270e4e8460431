"""The organiser's desk on a review's page: for each participating State, what it shared
(slug, versions, when), which documents are approved (by whom, when), which still wait for
their head's approval, and the invitations pending for its delegates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.link_models import Invitation
from server.models import Review, User
from server.services import invitations
from server.services.approvals import missing_approvals
from server.services.reviews import participants_by_role


@dataclass
class SharedDocument:
    """One State's document as shared into a review: its shared versions and comment count."""

    party: str
    slug: str
    title: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    open_comments: int = 0
    approval: dict[str, Any] | None = None

    @property
    def latest(self) -> str:
        return str(self.versions[-1]["version"])


@dataclass
class StateDesk:
    """One participating State as its review's organisers see it."""

    code: str
    documents: list[SharedDocument]
    missing: list[dict[str, str]]
    pending: list[Invitation]

    @property
    def complete(self) -> bool:
        """Whether every document the State shared is approved in its last shared version."""
        return bool(self.documents) and not self.missing


def desk_of(
    user: User, review: Review, by_state: dict[str, list[SharedDocument]]
) -> list[StateDesk]:
    """Every State of the review, in code order, with or without shared documents."""
    missing = missing_approvals(review)
    pending = invitations.pending_invitations(user)
    return [
        StateDesk(
            code,
            by_state.get(code, []),
            [m for m in missing if m["party"] == code],
            [i for i in pending if i.party.code == code],
        )
        for code in participants_by_role(review)["states"]
    ]
