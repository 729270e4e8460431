"""Replay a comparison on the old version: the tests' check that it says exactly what changed."""

from __future__ import annotations

from repo_store.diff.blocks import parse_blocks
from repo_store.diff.text import words
from repo_store.diff.textdiff import TextDiff


class DiffMismatch(ValueError):
    """The comparison does not fit the old version it is applied to."""


def apply_ops(diff: TextDiff, old_text: str) -> list[str]:
    """Rebuild the new version's word tokens from the old version and the comparison.

    Unchanged blocks are taken from the old text by their old id; changed blocks must spell the
    old block's words in their ``equal`` and ``delete`` runs, and give the new ones in their
    ``equal`` and ``insert`` runs.
    """
    old_blocks = {block.id: block for block in parse_blocks(old_text)}
    used: set[str] = set()
    rebuilt: list[str] = []
    for entry in diff.blocks:
        old_id = entry.old_id
        if old_id is not None:
            if old_id not in old_blocks or old_id in used:
                raise DiffMismatch(f"block {old_id!r} is not in the old version once")
            used.add(old_id)
        if entry.tokens:
            was = words("".join(r.text for r in entry.tokens if r.op != "insert"))
            expected = words(old_blocks[old_id].text) if old_id is not None else []
            if was != expected:
                raise DiffMismatch(f"runs of block {old_id!r} do not spell its old text")
            if entry.op != "delete":
                rebuilt.extend(words("".join(r.text for r in entry.tokens if r.op != "delete")))
        elif entry.op in ("equal", "move") and old_id is not None:
            rebuilt.extend(words(old_blocks[old_id].text))
        elif entry.op != "delete":
            raise DiffMismatch(f"block {entry.new_id!r} has no runs to rebuild it from")
    if used != old_blocks.keys():
        raise DiffMismatch("the comparison leaves out blocks of the old version")
    return rebuilt
