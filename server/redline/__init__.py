"""The HTML redline: a comparison from repo_store.diff rendered as a page that reads on its own,
whole or one page of blocks at a time (DESIGN.md §6, format ``html``)."""
