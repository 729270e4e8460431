"""The application factory: everything is built here, nothing at import time."""

from __future__ import annotations

import logging
import os
import stat
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request

from keys.factor_secrets import FactorSecrets
from keys.master import load_master_key
from keys.party_keys import KeyStore
from repo_store.store import RepoStore
from server.api import audit as audit_api
from server.api import auth as auth_api
from server.api import denied
from server.api import documents as documents_api
from server.api import invitations as invitations_api
from server.api import keys as keys_api
from server.api import meta as meta_api
from server.api import mfa as mfa_api
from server.api import reviews as reviews_api
from server.api import security_keys as security_keys_api
from server.api import signing as signing_api
from server.api.second_factor_docs import SecondFactorRefusals
from server.auth import init_auth
from server.config import Config
from server.db import Database, init_db
from server.errors import ProblemApi, init_errors
from server.services import context
from server.services.context import Services, Surroundings
from server.services.diffs import make_diff_cache
from server.services.limits import make_work_gate
from server.web import init_web

log = logging.getLogger(__name__)
API_BLUEPRINTS = (
    meta_api.blp,
    auth_api.blp,
    documents_api.blp,
    keys_api.blp,
    mfa_api.blp,
    security_keys_api.blp,
    reviews_api.blp,
    signing_api.blp,
    audit_api.blp,
    invitations_api.blp,
)


def _warn_if_open(config: Config) -> None:
    try:
        mode = stat.S_IMODE(config.data_dir.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        log.warning(
            "the data directory %s is open to other users (mode %04o): "
            "run `chmod 700 %s` or `peerlex-server init --if-missing`",
            config.data_dir,
            mode,
            config.data_dir,
        )


def _warn_if_no_second_factor_required(config: Config) -> None:
    if config.require_mfa == "none":
        log.warning(
            "PEERLEX_REQUIRE_MFA=none: heads of delegation, organisers and admins may sign in "
            "with a password alone; set it to roles (the default) or all outside demos and tests"
        )


def _current_services() -> Services:
    found: Services = current_app.extensions["peerlex.services"]
    return found


def _current_request_id() -> str:
    found: str = g.get("request_id", "-") if has_request_context() else "-"
    return found


# Services find the running app's objects and the request's id here, never in flask's globals.
SURROUNDINGS = Surroundings(services=_current_services, request_id=_current_request_id)


def create_app(config: Config | None = None) -> Flask:
    """Create and configure an instance of the peerlex application."""
    config = config or Config.from_env()
    # Served by gunicorn or any other WSGI server, the app makes its files (database, WAL,
    # repositories, blobs, bundles) readable by their owner alone, as `peerlex-server` does.
    os.umask(0o077)
    _warn_if_open(config)
    _warn_if_no_second_factor_required(config)
    master = load_master_key(config.master_key_path, dict(config.environ))
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=master.derive("peerlex flask session").hex(),
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        SESSION_COOKIE_NAME="peerlex_session",
        REMEMBER_COOKIE_SECURE=config.secure_cookies,
        TESTING=config.testing,
        JSON_SORT_KEYS=False,
        API_TITLE="peerlex",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.config["API_SPEC_OPTIONS"] = {
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "peerlex_session"},
            }
        },
        "security": [{"bearer": []}, {"session": []}],
    }
    database = Database(config.database_uri)
    # Runs the migrations the database lacks, under a lock (docs/deployment.md).
    database.create_schema()
    init_db(app, database)
    keys = KeyStore(config.keys_dir, master)
    store = RepoStore(config.repos_dir, keys)
    # Refuse to serve repositories of the first layout rather than answer 500s from them.
    store.check_layout()
    app.extensions["peerlex.config"] = config
    app.extensions["peerlex.work_gate"] = make_work_gate(config)
    app.extensions["peerlex.diff_cache"] = make_diff_cache(config)
    app.extensions["peerlex.services"] = Services(
        config=config,
        keys=keys,
        store=store,
        database=database,
        work_gate=app.extensions["peerlex.work_gate"],
        diff_cache=app.extensions["peerlex.diff_cache"],
        factor_secrets=FactorSecrets(master),
    )
    context.install(SURROUNDINGS)
    init_errors(app)
    init_auth(app)
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [SecondFactorRefusals()]})
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    init_web(app)

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else (uuid.uuid4().hex)
        )

    @app.after_request
    def _audit_denied(response: Response) -> Response:
        # Refused API requests (401/403/404) become "denied" audit entries in their own
        # transaction; an audit failure is logged and never changes the response.
        denied.after_request(response.status_code, api=request.path.startswith("/api/"))
        return response

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
        )
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
