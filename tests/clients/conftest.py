"""The server fixtures, for client tests that need a real review and bundle."""

from tests.server.conftest import agreed, app, client, config, review_world  # noqa: F401
