"""HTTP API blueprints under /api/v1."""
