"""Per-party bare git repositories: signed commits, compare-and-swap refs, reads, diff."""
