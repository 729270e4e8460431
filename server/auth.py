"""Who is calling: flask-login sessions, Bearer tokens, CSRF on cookie writes, deny by default,
and nothing but enrolling for whoever must hold a second factor and holds none."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, current_app, g, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from werkzeug.exceptions import Unauthorized

from server.config import Config, Network
from server.db import db_session
from server.errors import Problem
from server.models import ApiToken, User, UserSession, utcnow
from server.services.mfa import (
    MAX_CODE,
    check_second_factor,
    enrolment_outstanding,
    has_second_factor,
)
from server.signin import WRONG_CODE, counted_code_check, session_user

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
TOKEN_PREFIX = "plx_"  # noqa: S105 - a public marker, not a secret
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints anyone may call; everything else needs a logged-in user.
PUBLIC_ENDPOINTS = frozenset(
    {
        "meta.healthz",
        "meta.allowed_signers",
        "api-docs.openapi_json",
        "auth.login",
        "auth.create_token",
        "static",
        "web.sign_in",
        "web.setup",
        "web.accept_invitation",
        "web.second_factor",
        "security_keys.begin_sign_in",
        "security_keys.finish_sign_in",
        "web.set_language",
        "web.static",
    }
)
# What someone who must enrol a second factor and has none may reach: who they are, enrolling,
# and the ways out.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "meta.me",
        "mfa.enrol_totp",
        "mfa.confirm_totp",
        "security_keys.begin_enrolment",
        "security_keys.finish_enrolment",
        "web.security_keys",
        "mfa.list_factors",
        "mfa.remove_factor",
        "auth.logout",
        "auth.logout_everywhere",
        "auth.revoke_token",
        "web.sign_out",
        "web.account_security",
        "web.enrol_authenticator",
        "web.confirm_authenticator",
        "web.remove_factor",
    }
)
ENROLMENT_REQUIRED = (
    "your role needs a second factor: enrol an authenticator app first "
    "(POST /api/v1/me/mfa/totp, then /api/v1/me/mfa/totp/confirm), or a security key on the "
    "page /account/security-keys"
)
# Acts that sign for a State or an organisation, or give or take away a way in: with a second
# factor and a sign-in older than STEP_UP_AFTER, they need a fresh code (X-Peerlex-Code) or a
# fresh sign-in.
STEP_UP_ENDPOINTS = frozenset(
    {
        "reviews.create_approval",
        "reviews.build_bundle",
        "signing.request_approval",
        "web.approve",
        "web.build_bundle",
        # Administration acts that change who may sign in, and how (server/web/admin_*.py).
        "web.admin_user_role",
        "web.admin_user_disable",
        "web.admin_user_enable",
        "web.admin_user_reset_factors",
    }
)
STEP_UP_AFTER = timedelta(minutes=15)
STEP_UP_HEADER = "X-Peerlex-Code"
STEP_UP_REQUIRED = (
    "approving and building a bundle need a sign-in of the last 15 minutes: sign in again, or "
    f"send a code of your authenticator app as {STEP_UP_HEADER}"
)
# Endpoints that take credentials themselves, so there is no session to forge a request for.
CSRF_EXEMPT = frozenset({"auth.login", "auth.create_token"})


class EnrolmentRequired(Problem):
    """Refused: the user must enrol a second factor first (the pages lead them there)."""

    def __init__(self) -> None:
        super().__init__(403, ENROLMENT_REQUIRED, "mfa-enrolment-required")


class StepUpRequired(Problem):
    """Refused: the act needs a second factor given within STEP_UP_AFTER."""

    def __init__(self, detail: str = STEP_UP_REQUIRED) -> None:
        super().__init__(403, detail, "mfa-step-up-required")


login_manager = LoginManager()
csrf = CSRFProtect()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, ttl_hours: int) -> tuple[str, ApiToken]:
    """Create a new API token for user; the clear token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        token_hash=token_digest(token),
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    )
    db_session().add(record)
    return token, record


def bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


def _user_from_token(req: Request) -> User | None:
    token = bearer_token(req)
    if token is None:
        return None
    digest = token_digest(token)
    record = db_session().scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if record is None or not hmac.compare_digest(record.token_hash, digest):
        return None
    if record.revoked_at is not None or record.expires_at <= utcnow():
        return None
    if not record.user.active:
        return None
    g.api_token = record
    return record.user


def current_token() -> ApiToken | None:
    """The token that authenticated this request, if it was a token."""
    token: ApiToken | None = g.get("api_token")
    return token


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(session_user)
    login_manager.session_protection = "strong"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    csrf.init_app(app)

    def _unauthorized() -> Any:
        raise Unauthorized("log in, or send an API token as Authorization: Bearer")

    login_manager.unauthorized_handler(_unauthorized)

    @app.before_request
    def _require_login() -> None:
        # A Bearer header means the caller chose token auth: any cookie is then ignored, so
        # a bad token is never rescued by a session. flask-login reads the user from g.
        if bearer_token(request) is not None:
            g._login_user = _user_from_token(request) or login_manager.anonymous_user()
            g.auth_via_token = True
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return
        if not current_user.is_authenticated:
            raise Unauthorized("log in, or send an API token as Authorization: Bearer")
        if (
            request.method not in SAFE_METHODS
            and not g.get("auth_via_token")
            and request.endpoint not in CSRF_EXEMPT
        ):
            csrf.protect()
        if request.endpoint not in ENROLMENT_ENDPOINTS and enrolment_outstanding(current_user):
            raise EnrolmentRequired()
        if request.endpoint in STEP_UP_ENDPOINTS:
            _step_up(current_user)


def current_user_session() -> UserSession | None:
    """The cookie session that authenticated this request, if it was a cookie session."""
    record: UserSession | None = g.get("user_session")
    return None if current_token() is not None else record


def _signed_in_at() -> datetime | None:
    """When the credential of this request last proved its user: its API token's making, or
    its cookie session's sign-in or latest confirmation (the confirm page)."""
    token = current_token()
    if token is not None:
        return token.created_at
    record = current_user_session()
    return None if record is None else record.verified_at or record.created_at


def step_up_due(user: User) -> bool:
    """Whether approving or building a bundle now would first ask for the second factor."""
    signed_in_at = _signed_in_at()
    if signed_in_at is not None and utcnow() - signed_in_at < STEP_UP_AFTER:
        return False
    return has_second_factor(user)


def _step_up(user: User) -> None:
    """Ask for the second factor again when the sign-in is older than STEP_UP_AFTER."""
    if not step_up_due(user):
        return
    code = request.headers.get(STEP_UP_HEADER, "").strip()
    if not code:
        raise StepUpRequired()
    # A wrong code leaves its claim standing: it counts towards the sign-in limits.
    with counted_code_check(user, client_address()):
        if check_second_factor(user, code[:MAX_CODE]) is None:
            raise StepUpRequired(WRONG_CODE)


def _address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def forwarded_client(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client's address: the peer, or what trusted proxies say they were connected from.

    X-Forwarded-For is read from the right (each proxy appends the address it was connected
    from) and only while the hop that wrote the entry is a trusted proxy, so an entry a client
    wrote itself is never believed. An entry that is no address ends the walk at the last
    trusted hop.
    """
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    current = _address(peer)
    if current is None:
        return peer or "unknown"
    while hops and any(current in network for network in trusted):
        previous = _address(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)


def client_address() -> str:
    """The client's address (PEERLEX_TRUSTED_PROXIES says whose X-Forwarded-For to believe)."""
    config: Config = current_app.extensions["peerlex.config"]
    return forwarded_client(
        request.remote_addr or "",
        request.headers.getlist("X-Forwarded-For"),
        config.trusted_proxies,
    )
