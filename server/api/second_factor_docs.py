"""The OpenAPI document's word on second factors: the 403 every route but enrolling answers a
user who must enrol and has not, and the 403 of acts that ask for a fresh code (step-up).

Both refusals come from one check before any route runs (server/auth.py), so they are written
here once, into every operation they apply to, rather than on each route.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

from server.auth import ENROLMENT_ENDPOINTS, PUBLIC_ENDPOINTS, STEP_UP_ENDPOINTS, STEP_UP_HEADER

ENROLMENT_REFUSAL = (
    "A user who must hold a second factor (PEERLEX_REQUIRE_MFA) and has none: problem type "
    "…/mfa-enrolment-required; enrol with POST /api/v1/me/mfa/totp first."
)
STEP_UP_REFUSAL = (
    "A sign-in older than 15 minutes of a user with a second factor: problem type "
    f"…/mfa-step-up-required; send a code of the authenticator app as {STEP_UP_HEADER}."
)


# An RFC 9457 problem, as server/errors.py writes every refusal.
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "ends in the kind of refusal"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
    }


def _refusals(endpoint: str) -> list[str]:
    refusals = []
    if endpoint not in PUBLIC_ENDPOINTS and endpoint not in ENROLMENT_ENDPOINTS:
        refusals.append(ENROLMENT_REFUSAL)
    if endpoint in STEP_UP_ENDPOINTS:
        refusals.append(STEP_UP_REFUSAL)
    return refusals


class SecondFactorRefusals(BasePlugin):
    """An apispec plugin: adds the second-factor 403s to the operations they apply to."""

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        rule = kwargs.get("rule")
        refusals = _refusals(rule.endpoint) if rule is not None else []
        if not refusals or not operations:
            return
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            documented = responses.get("403")
            # A route's own 403 stays described, the refusals before any route after it.
            own = documented.get("description") if isinstance(documented, dict) else None
            responses["403"] = _problem(" ".join([own, *refusals] if own else refusals))
