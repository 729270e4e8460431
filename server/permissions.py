"""Who may do what, decided in one place. Deny by default; 'cannot read' is answered as 404."""

from __future__ import annotations

import enum

from server.models import Role, User


class Access(enum.IntFlag):
    NONE = 0
    READ = enum.auto()
    WRITE = enum.auto()


def document_access(user: User, party: str) -> Access:
    """What a user may do with a party's documents through membership of that party.

    Admins get nothing here by being admins: they manage parties, not content.
    """
    role = user.role_in(party)
    if role in (Role.EXPERT, Role.HEAD):
        return Access.READ | Access.WRITE
    return Access.NONE
