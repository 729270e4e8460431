"""The peerlex Flask service: app factory, API, auth, permissions, services and models."""
