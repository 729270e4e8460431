"""Compare two versions of a document: aligned blocks, word runs, warnings and counts.

The JSON shape is described in the package docstring.  Blocks come in the new version's
order, and each deleted block stands right after the block that preceded it in the old
version.  ``tokens`` is empty when a block's text is unchanged (``equal`` or ``move`` of the
same text); otherwise it holds the word runs, and an inserted or deleted block is one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from repo_store.diff.align import Alignment, align_blocks
from repo_store.diff.blocks import Block, parse_versions
from repo_store.diff.collector import paused_collector
from repo_store.diff.text import BIDI_CONTROLS, BIDI_RE, code_point_name, normalise_text
from repo_store.diff.words import TokenRun, diff_words, replace_all

# A hostile text could carry a bidi control in every block; the first ones are enough to warn.
MAX_WARNINGS = 100


# Not frozen: a comparison makes one of these per block, and a frozen dataclass costs more to
# build; nothing mutates them after ``diff_texts`` returns.
@dataclass(slots=True)
class BlockDiff:
    """One block of the comparison: what happened to it and the word runs that show it."""

    op: str  # "equal" | "insert" | "delete" | "replace" | "move"
    old: Block | None
    new: Block | None
    renumbered: bool
    tokens: tuple[TokenRun, ...]

    @property
    def old_id(self) -> str | None:
        return self.old.id if self.old is not None else None

    @property
    def new_id(self) -> str | None:
        return self.new.id if self.new is not None else None

    @property
    def shown(self) -> Block:
        """Return the block as it reads now, or as it read before if it was deleted."""
        if self.new is not None:
            return self.new
        if self.old is None:
            raise ValueError("a block comparison needs an old or a new block")
        return self.old

    def to_json(self) -> dict[str, Any]:
        shown = self.shown
        return {
            "op": self.op,
            "old_id": self.old_id,
            "new_id": self.new_id,
            "kind": shown.kind,
            "renumbered": self.renumbered,
            "text": shown.text,
            "tokens": [{"op": run.op, "text": run.text} for run in self.tokens],
        }


@dataclass(frozen=True, slots=True)
class DiffWarning:
    """Something in a version a reviewer should know about, such as a bidi control."""

    kind: str
    side: str  # "old" | "new"
    block: str
    offset: int  # in the block's normalised text
    code_point: str  # "U+202E"
    name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "side": self.side,
            "block": self.block,
            "offset": self.offset,
            "code_point": self.code_point,
            "name": self.name,
        }


@dataclass(frozen=True, slots=True)
class TextDiff:
    """The comparison of two versions of a document."""

    blocks: tuple[BlockDiff, ...]
    warnings: tuple[DiffWarning, ...] = ()
    warnings_dropped: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the comparison as plain JSON-ready data."""
        with paused_collector():
            return self._to_json()

    def _to_json(self) -> dict[str, Any]:
        warnings = [w.to_json() for w in self.warnings]
        if self.warnings_dropped:
            warnings.append({"type": "more_warnings", "count": self.warnings_dropped})
        blocks = []
        for entry in self.blocks:
            if entry.op == "equal" and not entry.tokens and entry.new is not None:
                # An untouched block, the bulk of most comparisons: built inline for speed.
                new = entry.new
                blocks.append(
                    {
                        "op": "equal",
                        "old_id": new.id,
                        "new_id": new.id,
                        "kind": new.kind,
                        "renumbered": False,
                        "text": new.text,
                        "tokens": [],
                    }
                    if entry.old is new
                    else entry.to_json()
                )
            else:
                blocks.append(entry.to_json())
        return {
            "blocks": blocks,
            "warnings": warnings,
            "stats": dict(self.stats),
        }


def diff_texts(old: str, new: str) -> TextDiff:
    """Compare two versions of a document block by block, then word by word."""
    with paused_collector():
        return _diff_texts(old, new)


def _diff_texts(old: str, new: str) -> TextDiff:
    old = normalise_text(old)
    new = normalise_text(new)
    old_blocks, new_blocks = parse_versions(old, new)
    alignment = align_blocks(old_blocks, new_blocks)
    stats = dict.fromkeys(
        (
            "equal",
            "insert",
            "delete",
            "replace",
            "move",
            "renumbered",
            "words_deleted",
            "words_inserted",
        ),
        0,
    )
    stats["old_blocks"] = len(old_blocks)
    stats["new_blocks"] = len(new_blocks)
    entries = _entries(alignment, stats)
    warnings: list[DiffWarning] = []
    dropped = _bidi_warnings("old", old, old_blocks, warnings)
    dropped += _bidi_warnings("new", new, new_blocks, warnings)
    return TextDiff(tuple(entries), tuple(warnings), dropped, stats)


def _entries(alignment: Alignment, stats: dict[str, int]) -> list[BlockDiff]:
    old, new = alignment.old, alignment.new
    old_of_new = alignment.old_of_new
    in_order = alignment.in_order
    # Each deleted block follows the old block before it that kept its place in the new order.
    deleted_after: dict[int, list[int]] = {}
    anchor = -1
    for i, j in enumerate(alignment.new_of_old):
        if j < 0:
            deleted_after.setdefault(anchor, []).append(i)
        elif in_order[j]:
            anchor = j
    entries: list[BlockDiff] = []
    for i in deleted_after.get(-1, ()):
        entries.append(_deleted(old[i], stats))
    equal_count = 0
    for j, block in enumerate(new):
        i = old_of_new[j]
        if i < 0:
            runs, _, inserted = replace_all("", block.text)
            stats["words_inserted"] += inserted
            stats["insert"] += 1
            entries.append(BlockDiff("insert", None, block, False, tuple(runs)))
        else:
            before = old[i]
            if in_order[j] and (
                before is block or (before.text == block.text and before.id == block.id)
            ):
                # The common case, kept lean: most blocks of a new version are untouched.
                equal_count += 1
                entries.append(BlockDiff("equal", before, block, False, ()))
            else:
                entries.append(
                    _paired(before, block, bool(in_order[j]), j in alignment.similar, stats)
                )
        later = deleted_after.get(j)
        if later is not None:
            for i in later:
                entries.append(_deleted(old[i], stats))
    stats["equal"] += equal_count
    return entries


def _deleted(block: Block, stats: dict[str, int]) -> BlockDiff:
    runs, deleted, _ = replace_all(block.text, "")
    stats["words_deleted"] += deleted
    stats["delete"] += 1
    return BlockDiff("delete", block, None, False, tuple(runs))


def _paired(
    before: Block, after: Block, in_order: bool, similar: bool, stats: dict[str, int]
) -> BlockDiff:
    renumbered = before.id != after.id and not (
        before.number is None and after.number is None and before.parent == after.parent
    )
    same_wording = before.body == after.body
    if not in_order:
        op = "move"
    elif same_wording:
        op = "equal"
    else:
        op = "replace"
    stats[op] += 1
    stats["renumbered"] += renumbered
    if before.text == after.text:
        return BlockDiff(op, before, after, renumbered, ())
    if same_wording or similar:
        runs, deleted, inserted = diff_words(before.text, after.text)
    else:
        # Paired only by number: the wording has too little in common to be worth aligning.
        runs, deleted, inserted = replace_all(before.text, after.text)
    stats["words_deleted"] += deleted
    stats["words_inserted"] += inserted
    return BlockDiff(op, before, after, renumbered, tuple(runs))


def _bidi_warnings(side: str, text: str, blocks: list[Block], out: list[DiffWarning]) -> int:
    """Report bidi controls of one version; return how many did not fit under the cap."""
    # A dozen substring tests scan a long text much faster than one character-class search.
    if not any(char in text for char in BIDI_CONTROLS):
        return 0
    dropped = 0
    for block in blocks:
        for m in BIDI_RE.finditer(block.text):
            if len(out) >= MAX_WARNINGS:
                dropped += 1
                continue
            char = m.group()
            out.append(
                DiffWarning(
                    "bidi_control",
                    side,
                    block.id,
                    m.start(),
                    f"U+{ord(char):04X}",
                    code_point_name(char),
                )
            )
    return dropped
