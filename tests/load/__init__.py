"""Multi-process load tests against a real server."""
