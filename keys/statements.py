"""Canonical JSON for signed statements: the same data always gives the same bytes."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8 (RFC 8785's shape for our plain data)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
