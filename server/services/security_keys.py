"""Security keys and platform authenticators (WebAuthn) as second factors: enrolling one, and
checking its assertion when its user signs in.

Each ceremony starts with a challenge kept in the database (its SHA-256 only), bound to the user
and the purpose, for CHALLENGE_FOR. Finishing claims the challenge by deleting its row, so of
any number of workers or hosts only one ever accepts an answer to it. An authenticator's
signature counter must move forward, or stay at zero as it does on authenticators that keep
none: one that went back or stood still suggests a cloned credential and is refused, and the
stored counter moves by compare-and-set. docs/threat-model.md says what this protects against;
docs/decisions.md why the challenges live in the database.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from server.db import db_session
from server.models import FactorKind, MfaFactor, User, WebAuthnChallenge, utcnow
from server.services import audit
from server.services.context import services
from server.services.errors import Conflict, Invalid
from server.services.mfa import (
    _check_label,
    _issue_recovery_codes,
    has_second_factor,
)

log = logging.getLogger(__name__)

RP_NAME = "peerlex"
REGISTER = "register"
SIGN_IN = "sign-in"
# How long a challenge waits for its answer; the browser is asked to give up a little earlier.
CHALLENGE_FOR = timedelta(minutes=5)
BROWSER_TIMEOUT_MS = 240_000
# Challenges of one user and purpose waiting at once (several tabs); older ones are dropped.
MAX_WAITING = 5
# A credential id is at most 1023 bytes (WebAuthn §5.8.3): 1364 base64url characters.
MAX_CREDENTIAL_ID = 1364
# The problem type of an assertion or attestation refused: it counts like a wrong code.
REFUSED_KIND = "security-key-refused"
MALFORMED_KIND = "invalid-credential"
TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


def refused(detail: str) -> Invalid:
    return Invalid(detail, REFUSED_KIND, errors={"credential": [detail]})


def _malformed(detail: str = "the credential is not what a browser's WebAuthn answers") -> Invalid:
    return Invalid(detail, MALFORMED_KIND, errors={"credential": [detail]})


def security_keys(user: User) -> list[MfaFactor]:
    """The user's security keys and platform authenticators, oldest first."""
    query = (
        select(MfaFactor)
        .where(
            MfaFactor.user_id == user.id,
            MfaFactor.kind == FactorKind.WEBAUTHN,
            MfaFactor.confirmed_at.is_not(None),
        )
        .order_by(MfaFactor.id)
    )
    return list(db_session().scalars(query))


def _descriptor(factor: MfaFactor) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in factor.transports.split(",") if t]
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(factor.credential_id or ""), transports=transports or None
    )


def _user_handle(user: User) -> bytes:
    # Stable per account, so that a second key of one user replaces nothing on a first, and
    # no email address is written onto the authenticator as the handle.
    return hashlib.sha256(f"peerlex user {user.id}".encode()).digest()


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _wait_for_answer(user: User, purpose: str, challenge: bytes) -> None:
    """Keep the challenge until it is answered or expires (and drop expired ones)."""
    session, now = db_session(), utcnow()
    session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= now))
    older = (
        select(WebAuthnChallenge.id)
        .where(WebAuthnChallenge.user_id == user.id, WebAuthnChallenge.purpose == purpose)
        .order_by(WebAuthnChallenge.id.desc())
        .offset(MAX_WAITING - 1)
    )
    session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.id.in_(older)))
    session.add(
        WebAuthnChallenge(
            user_id=user.id,
            purpose=purpose,
            challenge_hash=_challenge_hash(challenge),
            expires_at=now + CHALLENGE_FOR,
        )
    )
    session.commit()


def _client_data(credential: Mapping[str, Any]) -> dict[str, Any]:
    response = credential.get("response")
    encoded = response.get("clientDataJSON") if isinstance(response, dict) else None
    if not isinstance(encoded, str):
        raise _malformed()
    try:
        found = json.loads(base64url_to_bytes(encoded))
    except (binascii.Error, ValueError) as exc:
        raise _malformed() from exc
    if not isinstance(found, dict) or not isinstance(found.get("challenge"), str):
        raise _malformed()
    return found


def _claim_challenge(user: User, purpose: str, client_data: Mapping[str, Any]) -> bytes:
    """The challenge the browser answered, claimed once: its row goes, by one writer only.

    The delete commits with the caller's transaction; until then a second claim of the same
    row waits for it (and then finds nothing), on SQLite and PostgreSQL alike.
    """
    origin = client_data.get("origin")
    if not isinstance(origin, str) or not services().config.webauthn_origin_allowed(origin):
        raise refused("the browser was not at this site's address (its origin)")
    try:
        challenge = base64url_to_bytes(client_data["challenge"])
    except (binascii.Error, ValueError) as exc:
        raise _malformed() from exc
    claimed = db_session().execute(
        delete(WebAuthnChallenge)
        .where(
            WebAuthnChallenge.challenge_hash == _challenge_hash(challenge),
            WebAuthnChallenge.user_id == user.id,
            WebAuthnChallenge.purpose == purpose,
            WebAuthnChallenge.expires_at > utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise refused("the challenge is unknown, used already or expired: start again")
    return challenge


def registration_options(user: User) -> dict[str, Any]:
    """Options for navigator.credentials.create(), as JSON: the user's keys excluded."""
    config = services().config
    options = generate_registration_options(
        rp_id=config.webauthn_rp_id,
        rp_name=RP_NAME,
        user_name=user.email,
        user_id=_user_handle(user),
        timeout=BROWSER_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(factor) for factor in security_keys(user)],
    )
    _wait_for_answer(user, REGISTER, options.challenge)
    found: dict[str, Any] = json.loads(options_to_json(options))
    return found


def _transports(credential: Mapping[str, Any]) -> str:
    response = credential.get("response")
    listed = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(listed, list):
        return ""
    return ",".join(sorted({t for t in listed if isinstance(t, str) and t in TRANSPORTS}))


def enrol_security_key(
    user: User, credential: Mapping[str, Any], label: str
) -> tuple[MfaFactor, list[str]]:
    """Add a security key from the browser's answer to registration_options (audited).

    The user's first factor comes with ten recovery codes (shown once); a further factor
    leaves the codes they hold as they are, and answers none.
    """
    _check_label(label)
    config = services().config
    client_data = _client_data(credential)
    challenge = _claim_challenge(user, REGISTER, client_data)
    try:
        verified = verify_registration_response(
            credential=dict(credential),
            expected_challenge=challenge,
            expected_rp_id=config.webauthn_rp_id,
            expected_origin=client_data["origin"],
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise refused(f"the security key's answer does not verify: {exc}"[:300]) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if len(credential_id) > MAX_CREDENTIAL_ID:
        raise _malformed("the credential id is longer than WebAuthn allows")
    session = db_session()
    if session.scalar(select(MfaFactor.id).where(MfaFactor.credential_id == credential_id)):
        raise Conflict("this security key is enrolled already", "key-enrolled")
    first = not has_second_factor(user)
    now = utcnow()
    factor = MfaFactor(
        user_id=user.id,
        kind=FactorKind.WEBAUTHN,
        label=label,
        confirmed_at=now,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(credential),
    )
    session.add(factor)
    session.flush()
    codes = _issue_recovery_codes(user) if first else []
    audit.record(
        user,
        "mfa.enrol",
        f"{user.email}/{factor.id}",
        kind=FactorKind.WEBAUTHN.value,
        recovery_codes=len(codes),
    )
    session.commit()
    return factor, codes


def authentication_options(user: User) -> dict[str, Any]:
    """Options for navigator.credentials.get(), as JSON: the user's keys allowed."""
    keys = security_keys(user)
    if not keys:
        raise Conflict("you have no security key: use a code", "no-security-key")
    options = generate_authentication_options(
        rp_id=services().config.webauthn_rp_id,
        timeout=BROWSER_TIMEOUT_MS,
        allow_credentials=[_descriptor(factor) for factor in keys],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _wait_for_answer(user, SIGN_IN, options.challenge)
    found: dict[str, Any] = json.loads(options_to_json(options))
    return found


def counter_moved_on(stored: int, answered: int) -> bool:
    """Whether an authenticator's counter is as an uncopied one's: higher than before, or
    zero both times (an authenticator that keeps no counter)."""
    return answered > stored or answered == stored == 0


def _credential_id(credential: Mapping[str, Any]) -> str:
    found = credential.get("id")
    if not isinstance(found, str) or not 0 < len(found) <= MAX_CREDENTIAL_ID:
        raise _malformed()
    return found


def check_assertion(user: User, credential: Mapping[str, Any]) -> MfaFactor:
    """Accept the browser's answer to authentication_options, once, from a key of the user.

    Writes into the open transaction (the challenge claimed, the counter moved): the caller
    commits what it accepts.
    """
    credential_id = _credential_id(credential)
    client_data = _client_data(credential)
    challenge = _claim_challenge(user, SIGN_IN, client_data)
    factor = next((k for k in security_keys(user) if k.credential_id == credential_id), None)
    if factor is None or factor.public_key is None:
        raise refused("this security key is not one of yours")
    try:
        # The counter is checked below, once the signature is known to be the key's own.
        verified = verify_authentication_response(
            credential=dict(credential),
            expected_challenge=challenge,
            expected_rp_id=services().config.webauthn_rp_id,
            expected_origin=client_data["origin"],
            credential_public_key=factor.public_key,
            credential_current_sign_count=0,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise refused(f"the security key's answer does not verify: {exc}"[:300]) from exc
    if not counter_moved_on(factor.sign_count, verified.new_sign_count):
        log.warning("security key %s of %s: its counter went back", factor.id, user.email)
        raise refused("this security key's counter went back: it may have been copied")
    moved = db_session().execute(
        update(MfaFactor)
        .where(MfaFactor.id == factor.id, MfaFactor.sign_count == factor.sign_count)
        .values(sign_count=verified.new_sign_count)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise refused("this security key was used at the same moment elsewhere")
    return factor
