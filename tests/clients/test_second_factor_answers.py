"""What a server answers about second factors is refused unless it has exactly the documented
shape: a secret, otpauth URI or recovery code with a control character is never printed."""

from __future__ import annotations

from typing import Any

import pytest

from clients.errors import ApiError
from clients.second_factors import checked_enrolment, checked_factors, checked_recovery_codes

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URI = f"otpauth://totp/peerlex:head%40blr.example?secret={SECRET}&issuer=peerlex"
ENROLMENT = {"id": 7, "secret": SECRET, "otpauth_uri": URI}
CODES = [f"ABCD-EFGH-IJKL-MNOP-QRST-UV{n}{n}" for n in range(2, 8)]
FACTOR = {
    "id": 3,
    "kind": "totp",
    "label": "phone",
    "created_at": "2026-12-03T10:00:00Z",
    "confirmed_at": None,
}


def test_well_formed_answers_pass() -> None:
    assert checked_enrolment(ENROLMENT) == ENROLMENT
    assert checked_recovery_codes({"recovery_codes": CODES}) == CODES
    listed = {"factors": [FACTOR], "recovery_codes_left": 10}
    assert checked_factors(listed) == listed


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        {**ENROLMENT, "id": True},
        {**ENROLMENT, "id": "7"},
        {**ENROLMENT, "secret": SECRET.lower()},
        {**ENROLMENT, "secret": SECRET + "\x1b[2J"},
        {**ENROLMENT, "secret": "A" * 129},
        {**ENROLMENT, "secret": 12345},
        {**ENROLMENT, "otpauth_uri": URI + "\r\x1b]0;owned\x07"},
        {**ENROLMENT, "otpauth_uri": URI + "\u202e"},
        {**ENROLMENT, "otpauth_uri": URI.replace("totp", "hotp", 1)},
        {**ENROLMENT, "otpauth_uri": "https://evil.example/?secret=" + SECRET},
        {**ENROLMENT, "otpauth_uri": URI.replace(SECRET, "A" * 32)},
        {**ENROLMENT, "otpauth_uri": URI + "&x=" + "a" * 2048},
    ],
)
def test_a_malformed_enrolment_is_refused(answer: Any) -> None:
    with pytest.raises(ApiError, match="otpauth URI|authenticator"):
        checked_enrolment(answer)


@pytest.mark.parametrize(
    "codes",
    [
        None,
        [],
        "ABCD-EFGH",
        [*CODES, "ABCD-EFGH\x1b[2J"],
        [*CODES, "ABCD-\u202eEFGH"],
        [*CODES, 1234],
        [*CODES, "abcd-efgh"],
        [*CODES, "ABCD-" * 20 + "ABCD"],
        ["ABCD-EFGH"] * 101,
    ],
)
def test_malformed_recovery_codes_are_refused(codes: Any) -> None:
    with pytest.raises(ApiError, match="recovery codes"):
        checked_recovery_codes({"recovery_codes": codes})


@pytest.mark.parametrize(
    "answer",
    [
        {"factors": [FACTOR]},
        {"factors": [FACTOR], "recovery_codes_left": -1},
        {"factors": [FACTOR], "recovery_codes_left": True},
        {"factors": FACTOR, "recovery_codes_left": 1},
        {"factors": [{**FACTOR, "label": "phone\x1b[31m"}], "recovery_codes_left": 1},
        {"factors": [{**FACTOR, "label": "x" * 201}], "recovery_codes_left": 1},
        {"factors": [{**FACTOR, "kind": "TOTP\n"}], "recovery_codes_left": 1},
        {"factors": [{**FACTOR, "id": 0}], "recovery_codes_left": 1},
        {"factors": [{**FACTOR, "confirmed_at": "2026\u202e"}], "recovery_codes_left": 1},
        {"factors": [{**FACTOR, "created_at": None}], "recovery_codes_left": 1},
    ],
)
def test_a_malformed_list_of_factors_is_refused(answer: Any) -> None:
    with pytest.raises(ApiError, match="list of second factors"):
        checked_factors(answer)
