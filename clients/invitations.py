"""Invitations over the API: invite a person, list pending invitations, revoke one; each
answer is checked for the shape the API documents before it is shown or passed on."""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import quote

from clients.errors import ApiError
from clients.models import Invitation
from clients.transport import HttpSession

# The link is printed for the user to copy and pass on: an http(s) address ending in
# /invitations/<43 base64url characters>, with nothing in it that could act on a terminal or
# hide in a copied line.
INVITATION_URL = re.compile(
    r"https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~\-]+)*/invitations/[A-Za-z0-9_-]{43}"
)
MAX_ID = 2**31 - 1
TEXT_FIELDS = ("email", "party", "role", "created_at", "expires_at")
MAX_TEXT = 300


def _malformed(what: str) -> ApiError:
    return ApiError(200, "Bad Response", f"the server's {what} is malformed")


def checked_invitation(answer: Any, *, with_url: bool = False) -> Invitation:
    """An invitation of the documented shape, or ApiError."""
    if not isinstance(answer, dict):
        raise _malformed("invitation")
    number = answer.get("id")
    if not isinstance(number, int) or isinstance(number, bool) or not 0 < number <= MAX_ID:
        raise _malformed("invitation id")
    for name in TEXT_FIELDS:
        value = answer.get(name)
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise _malformed(f"invitation {name}")
    inviter = answer.get("invited_by")
    if inviter is not None and (not isinstance(inviter, str) or len(inviter) > MAX_TEXT):
        raise _malformed("invitation invited_by")
    if not isinstance(answer.get("mailed", False), bool):
        raise _malformed("invitation mailed")
    if with_url:
        url = answer.get("url")
        if not isinstance(url, str) or INVITATION_URL.fullmatch(url) is None:
            raise _malformed("invitation link")
    return cast(Invitation, answer)


class InvitationCalls(HttpSession):
    """The invitation routes of the API, for Client."""

    def invite(self, email: str, party: str, role: str) -> Invitation:
        """Invite email to party as role; the answer carries the link, shown only now."""
        data = {"email": email, "party": party, "role": role}
        return checked_invitation(self._json("POST", "invitations", data=data), with_url=True)

    def invitations(self) -> list[Invitation]:
        """The pending invitations you see."""
        answer = self._json("GET", "invitations")
        found = answer.get("invitations") if isinstance(answer, dict) else None
        if not isinstance(found, list):
            raise _malformed("list of invitations")
        return [checked_invitation(item) for item in found]

    def revoke_invitation(self, invitation_id: int) -> Invitation:
        path = "invitations/" + quote(str(invitation_id), safe="")
        return checked_invitation(self._json("DELETE", path))
