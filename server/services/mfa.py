"""Second factors: enrolling a TOTP authenticator (RFC 6238: 30 s, 6 digits), checking its
codes once each, single-use recovery codes, removing a factor and an operator's reset.

A code is accepted for the time step before, at or after now, and only for a step later than
the newest one accepted before: the factor's last_step moves by compare-and-set, so two
requests (threads, worker processes, hosts) never both accept one code. docs/threat-model.md
says what this protects against.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from sqlalchemy import delete, func, select, update

from server.characters import single_line_refusal
from server.db import db_session
from server.models import FactorKind, MfaFactor, RecoveryCode, User, utcnow
from server.permissions import must_enrol_second_factor
from server.services import audit
from server.services.context import services
from server.services.errors import Conflict, Invalid, NotFound
from server.services.sessions import end_every_session

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of now whose code is still accepted (a clock off by up to 30 s).
STEPS_AROUND = 1
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA1
ISSUER = "peerlex"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 15  # 120 bits, shown as 24 base32 letters in groups of four
MAX_LABEL = 200
MAX_CODE = 64
# The problem type of a refused code (wrong, used, or too far from now).
WRONG_CODE_KIND = "wrong-code"


@dataclass(frozen=True)
class Enrolment:
    """A pending TOTP factor and what the authenticator app needs (shown once)."""

    factor: MfaFactor
    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class AcceptedCode:
    """A second-factor code that was right: which kind, and recovery codes left afterwards."""

    kind: str
    recovery_codes_left: int


def _totp(secret: bytes) -> TOTP:
    # HMAC-SHA1 is RFC 6238's default and what authenticator apps compute; HMAC keeps it sound.
    return TOTP(secret, DIGITS, SHA1(), STEP_SECONDS)  # noqa: S303  # nosec B303


def _secret_text(secret: bytes) -> str:
    return base64.b32encode(secret).decode().rstrip("=")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normal_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def new_recovery_code() -> str:
    letters = _secret_text(secrets.token_bytes(RECOVERY_CODE_BYTES))
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def _factors(user: User, *, confirmed: bool) -> list[MfaFactor]:
    state = MfaFactor.confirmed_at.is_not(None) if confirmed else MfaFactor.confirmed_at.is_(None)
    query = select(MfaFactor).where(MfaFactor.user_id == user.id, state).order_by(MfaFactor.id)
    return list(db_session().scalars(query))


def has_second_factor(user: User) -> bool:
    """Whether the user holds a confirmed factor (then every sign-in asks for a code)."""
    return bool(_factors(user, confirmed=True))


def enrolment_outstanding(user: User) -> bool:
    """Whether the user may do nothing but enrol: they must have a factor and have none."""
    required = must_enrol_second_factor(user, services().config.require_mfa)
    return required and not has_second_factor(user)


def recovery_codes_left(user: User) -> int:
    query = select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
    )
    return int(db_session().scalar(query) or 0)


def _check_label(label: str) -> None:
    refusal = single_line_refusal(label)
    if refusal is None and len(label) > MAX_LABEL:
        refusal = f"is longer than {MAX_LABEL} characters"
    if refusal is not None:
        detail = f"the label {refusal}"
        raise Invalid(detail, "invalid-label", errors={"label": [detail]})


def enrol_totp(user: User, label: str = "") -> Enrolment:
    """Start enrolling an authenticator app; the factor counts only once a code confirms it.

    A pending factor from an earlier attempt is replaced, so only one secret waits at a time.
    """
    _check_label(label)
    session = db_session()
    session.execute(
        delete(MfaFactor).where(MfaFactor.user_id == user.id, MfaFactor.confirmed_at.is_(None))
    )
    secret = secrets.token_bytes(SECRET_BYTES)
    factor = MfaFactor(
        user_id=user.id,
        kind=FactorKind.TOTP,
        label=label,
        wrapped_secret=services().factor_secrets.wrap_for_user(user.id, secret),
    )
    session.add(factor)
    session.flush()
    audit.record(user, "mfa.enrol", f"{user.email}/{factor.id}", kind=FactorKind.TOTP.value)
    session.commit()
    return _enrolment(user, factor, secret)


def _enrolment(user: User, factor: MfaFactor, secret: bytes) -> Enrolment:
    uri = _totp(secret).get_provisioning_uri(user.email, ISSUER)
    return Enrolment(factor=factor, secret=_secret_text(secret), otpauth_uri=uri)


def pending_enrolment(user: User) -> Enrolment | None:
    """The authenticator waiting for its first code, again: for the enrolment page to show once
    more when that code was wrong. A pending factor signs no one in until confirmed."""
    # The newest pending authenticator app (security keys hold no secret and never wait).
    for factor in reversed(_factors(user, confirmed=False)):
        if factor.wrapped_secret is not None:
            secret = services().factor_secrets.unwrap_for_user(user.id, factor.wrapped_secret)
            return _enrolment(user, factor, secret)
    return None


def _step_of(factor: MfaFactor, code: str, now: datetime) -> int | None:
    """The time step near now whose code this is, if any (compared in constant time)."""
    if factor.wrapped_secret is None or len(code) != DIGITS or not code.isdigit():
        return None
    secret = services().factor_secrets.unwrap_for_user(factor.user_id, factor.wrapped_secret)
    totp, current = _totp(secret), int(now.timestamp()) // STEP_SECONDS
    found = None
    for step in range(current - STEPS_AROUND, current + STEPS_AROUND + 1):
        if hmac.compare_digest(totp.generate(step * STEP_SECONDS), code.encode()):
            found = step
    return found


def _accept_totp(factor: MfaFactor, code: str, now: datetime) -> bool:
    """Accept the code once: only for a step later than any accepted before, by one writer."""
    step = _step_of(factor, code, now)
    if step is None or step <= factor.last_step:
        return False
    moved = db_session().execute(
        update(MfaFactor)
        .where(MfaFactor.id == factor.id, MfaFactor.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0) == 1)


def _issue_recovery_codes(user: User) -> list[str]:
    """Ten fresh recovery codes, replacing any earlier ones; only their hashes are kept."""
    session = db_session()
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=_digest(_normal_recovery_code(code))))
    return codes


def _refuse_code(detail: str = "wrong code") -> Invalid:
    return Invalid(detail, WRONG_CODE_KIND, errors={"code": [detail]})


def _checked_code(code: Any) -> str:
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
        raise _refuse_code("send the code from your authenticator app")
    return code.strip()


def confirm_totp(user: User, code: str) -> list[str]:
    """Confirm the pending factor with its first code; answers new recovery codes (shown once)."""
    code = _checked_code(code)
    pending = _factors(user, confirmed=False)
    if not pending:
        raise Conflict("no authenticator is waiting to be confirmed", "no-pending-factor")
    factor = pending[-1]
    now = utcnow()
    if not _accept_totp(factor, code, now):
        raise _refuse_code()
    factor.confirmed_at = now
    codes = _issue_recovery_codes(user)
    audit.record(
        user, "mfa.confirm", f"{user.email}/{factor.id}", recovery_codes=RECOVERY_CODE_COUNT
    )
    db_session().commit()
    return codes


def check_second_factor(user: User, code: str) -> AcceptedCode | None:
    """Accept a TOTP code of one of the user's factors, or an unused recovery code; None if
    neither. Writes into the open transaction: the caller commits what it accepts."""
    code = code.strip()
    if not code or len(code) > MAX_CODE:
        return None
    now = utcnow()
    for factor in _factors(user, confirmed=True):
        if factor.kind == FactorKind.TOTP and _accept_totp(factor, code, now):
            return AcceptedCode(FactorKind.TOTP.value, recovery_codes_left(user))
    used = db_session().execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(_normal_recovery_code(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(used, "rowcount", 0) != 1:
        return None
    left = recovery_codes_left(user)
    audit.record(user, "mfa.recovery-code", user.email, recovery_codes_left=left)
    return AcceptedCode("recovery", left)


def list_factors(user: User) -> dict[str, Any]:
    """The user's factors, pending ones included, and how many recovery codes are left."""
    query = select(MfaFactor).where(MfaFactor.user_id == user.id).order_by(MfaFactor.id)
    factors = list(db_session().scalars(query))
    return {"factors": factors, "recovery_codes_left": recovery_codes_left(user)}


def remove_factor(user: User, factor_id: int, code: str) -> None:
    """Remove one of the user's factors, proven with a fresh code (audited).

    The last factor of someone who must hold one stays: removing it would lock them out of
    everything but enrolling again. A pending factor goes without a code; it signs no one in.
    """
    session = db_session()
    factor = session.scalar(
        select(MfaFactor).where(MfaFactor.id == factor_id, MfaFactor.user_id == user.id)
    )
    if factor is None:
        raise NotFound("no such second factor of yours")
    confirmed = _factors(user, confirmed=True)
    if factor.confirmed_at is not None:
        last = confirmed == [factor]
        if last and must_enrol_second_factor(user, services().config.require_mfa):
            raise Conflict(
                "your role needs a second factor: enrol another before removing this one",
                "last-factor",
            )
        if check_second_factor(user, _checked_code(code)) is None:
            raise _refuse_code()
        if last:
            session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.delete(factor)
    audit.record(user, "mfa.remove", f"{user.email}/{factor_id}", kind=factor.kind)
    session.commit()


def reset_second_factors(user: User, operator: str, actor: User | None = None) -> int:
    """Remove all the user's factors and recovery codes and end their sessions and tokens
    (audited, as done by actor; None: the server's command line): what an administrator does
    for someone who lost their authenticator."""
    session = db_session()
    removed = session.execute(delete(MfaFactor).where(MfaFactor.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_every_session(user)
    count = int(getattr(removed, "rowcount", 0) or 0)
    audit.record(actor, "mfa.reset", user.email, factors=count, by=operator)
    session.commit()
    return count
