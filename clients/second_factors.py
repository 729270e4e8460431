"""The server's answers about second factors, checked before anything of them is shown or kept.

An authenticator's secret, its otpauth URI and the recovery codes are printed for the user to
copy into an app or onto paper: each must have exactly the shape the API documents, with no
character that could act on a terminal or hide in a copied line.
"""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from clients.errors import ApiError
from clients.models import FactorList, TotpEnrolment
from clients.terminal import acts_on_terminal

# RFC 4648 base32 without padding: the server sends 160 bits (32 letters); apps take more.
SECRET = re.compile(r"[A-Z2-7]{16,128}")
MAX_URI = 2048
# An otpauth URI as RFC 3986 allows it: unreserved, reserved and percent-encoded characters.
URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# Recovery codes: groups of letters and digits joined by hyphens, e.g. ABCD-EFGH-...
RECOVERY_CODE = re.compile(r"[A-Z0-9]{4,16}(?:-[A-Z0-9]{4,16}){0,15}")
MAX_RECOVERY_CODE = 64
MAX_RECOVERY_CODES = 100
FACTOR_KIND = re.compile(r"[a-z][a-z0-9-]{0,31}")
MAX_LABEL = 200
MAX_TIMESTAMP = 64
# The header that carries a fresh code to an act that asks for one (step-up).
STEP_UP_HEADER = "X-Peerlex-Code"


def step_up_header(code: str | None) -> dict[str, str] | None:
    """The header with a fresh code for approving or building a bundle, when one is given."""
    return None if code is None else {STEP_UP_HEADER: code}


def _malformed(what: str) -> ApiError:
    return ApiError(200, "Bad Response", f"the server's {what} is malformed")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_text(value: Any, limit: int) -> bool:
    """A string short enough to show, with nothing in it that acts on a terminal."""
    return isinstance(value, str) and len(value) <= limit and not acts_on_terminal(value)


def checked_enrolment(answer: Any) -> TotpEnrolment:
    """A new authenticator's id, secret and otpauth URI, or ApiError if any is off shape.

    The URI must be a TOTP one that carries the very secret shown beside it: a user who scans
    it and one who types the secret get the same authenticator.
    """
    if not isinstance(answer, dict) or not _is_id(answer.get("id")):
        raise _malformed("new authenticator")
    secret, uri = answer.get("secret"), answer.get("otpauth_uri")
    if not isinstance(secret, str) or not SECRET.fullmatch(secret):
        raise _malformed("authenticator secret")
    if not isinstance(uri, str) or len(uri) > MAX_URI or not URI_CHARACTERS.fullmatch(uri):
        raise _malformed("otpauth URI")
    parts = urlsplit(uri)
    if parts.scheme != "otpauth" or parts.netloc != "totp":
        raise _malformed("otpauth URI")
    if parse_qs(parts.query).get("secret") != [secret]:
        raise ApiError(200, "Bad Response", "the otpauth URI does not carry the secret shown")
    return cast(TotpEnrolment, {"id": answer["id"], "secret": secret, "otpauth_uri": uri})


def checked_recovery_codes(answer: Any) -> list[str]:
    """The recovery codes of a confirmed authenticator, or ApiError if any is off shape."""
    codes = answer.get("recovery_codes") if isinstance(answer, dict) else None
    if (
        not isinstance(codes, list)
        or not 0 < len(codes) <= MAX_RECOVERY_CODES
        or not all(
            isinstance(code, str)
            and len(code) <= MAX_RECOVERY_CODE
            and RECOVERY_CODE.fullmatch(code)
            for code in codes
        )
    ):
        raise _malformed("list of recovery codes")
    return list(codes)


def _is_factor(item: Any) -> bool:
    confirmed = item.get("confirmed_at") if isinstance(item, dict) else None
    return (
        isinstance(item, dict)
        and _is_id(item.get("id"))
        and isinstance(item.get("kind"), str)
        and FACTOR_KIND.fullmatch(item["kind"]) is not None
        and _is_text(item.get("label"), MAX_LABEL)
        and _is_text(item.get("created_at"), MAX_TIMESTAMP)
        and (confirmed is None or _is_text(confirmed, MAX_TIMESTAMP))
    )


def checked_factors(answer: Any) -> FactorList:
    """The user's factors and recovery codes left, or ApiError if any is off shape."""
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("factors"), list)
        or not all(_is_factor(item) for item in answer["factors"])
        or not _is_count(answer.get("recovery_codes_left"))
    ):
        raise _malformed("list of second factors")
    factors = [
        {key: item.get(key) for key in ("id", "kind", "label", "created_at", "confirmed_at")}
        for item in answer["factors"]
    ]
    return cast(
        FactorList, {"factors": factors, "recovery_codes_left": answer["recovery_codes_left"]}
    )
