"""A keep-alive HTTP connection to a live server that speaks JSON with a Bearer token."""

from __future__ import annotations

import http.client
import json
from typing import Any


class Http:
    """One keep-alive connection speaking JSON with a Bearer token."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """Send one request; answer its status and its body (parsed when it is JSON)."""
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None if body is None else json.dumps(body)
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: open a new one, once.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        kind = response.getheader("Content-Type", "")
        return response.status, json.loads(raw) if "json" in kind and raw else raw

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
