"""Bounded property runs for the fuzz tests: a fixed seed, a fixed number of examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings


def run_bounded(operation: Any, check: Callable[[Any], None], examples: int) -> None:
    """Run check on `examples` cases schemathesis generates for an API operation, always the
    same ones (derandomized), with no deadline and no example database."""
    settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )(given(case=operation.as_strategy())(check))()
