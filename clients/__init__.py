"""The peerlex client library, command line and offline bundle verification."""
