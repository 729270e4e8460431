"""Compare two versions of a document: aligned blocks, word runs, warnings and counts.

The JSON shape is described in the package docstring.  Blocks come in the new version's
order, and each deleted block stands right after the block that preceded it in the old
version.  ``tokens`` is empty when a block's text is unchanged (``equal`` or ``move`` of the
same text); otherwise it holds the word runs, and an inserted or deleted block is one run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from typing import Any, NamedTuple

from repo_store.diff.align import Alignment, align_blocks, indices_of
from repo_store.diff.blocks import Block, parse_pair
from repo_store.diff.collector import paused_collector
from repo_store.diff.text import BIDI_RE, code_point_name, has_bidi_control, normalise_text
from repo_store.diff.words import TokenRun, WordBudget, diff_words, replace_all

# A hostile text could carry a bidi control in every block; the first ones are enough to warn.
MAX_WARNINGS = 100


# A named tuple: a comparison makes one of these per block, and a tuple is the cheapest
# immutable object to build (``_make_entry`` builds one from a tuple of its fields).
class BlockDiff(NamedTuple):
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
            "old_place": self.old_place,
        }

    @property
    def old_place(self) -> str | None:
        """Where a moved or renumbered block stood before, in the document's own words."""
        if self.old is None or not (self.op == "move" or self.renumbered):
            return None
        return place_of(self.old)


# How many words of an unnumbered top-level paragraph name it when nothing else does.
_PLACE_WORDS = 6


def place_of(block: Block) -> str:
    """Say where a block stands as the document writes it: "Статья 4", "Article 4 (1)", the
    heading's title, or the first words of an unnumbered paragraph; never an internal id."""
    label = block.label if block.label not in ("", "-", "*", "•") else ""
    if block.kind in ("article", "heading"):
        if label:
            return label
        if block.heading:
            return block.heading
    if label and block.provision and block.provision != label:
        # "Article 4 (1)" reads as written; "Статья 3, 2" drops the dot that ends "2." in
        # the text and would end the sentence of a note.
        if label.startswith("("):
            return f"{block.provision} {label}"
        return f"{block.provision}, {label.rstrip('.')}"
    if label:
        return label.rstrip(".") or label
    if block.provision:
        return block.provision
    words = block.text.lstrip("#").split()
    shown = " ".join(words[:_PLACE_WORDS])
    return f"“{shown}…”" if len(words) > _PLACE_WORDS else f"“{shown}”"


_make_entry: Callable[
    [tuple[str, Block | None, Block | None, bool, tuple[TokenRun, ...]]], BlockDiff
]
_make_entry = partial(tuple.__new__, BlockDiff)


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

    def to_json_without_blocks(self) -> dict[str, Any]:
        """Return the warnings and counts alone, as ``to_json`` gives them."""
        warnings = [w.to_json() for w in self.warnings]
        if self.warnings_dropped:
            warnings.append({"type": "more_warnings", "count": self.warnings_dropped})
        return {"warnings": warnings, "stats": dict(self.stats)}

    def _to_json(self) -> dict[str, Any]:
        blocks = _blocks_json(self.blocks, _UNTOUCHED, BlockDiff.to_json)
        return {"blocks": blocks, **self.to_json_without_blocks()}


# The JSON of an untouched block, in BlockDiff.to_json's key order; the None values are filled in.
_UNTOUCHED: dict[str, Any] = {
    "op": "equal",
    "old_id": None,
    "new_id": None,
    "kind": None,
    "renumbered": False,
    "text": None,
    "tokens": None,
    "old_place": None,
}


def _untouched_entries_in_python(blocks: Sequence[Block]) -> list[BlockDiff]:
    """``BlockDiff("equal", block, block, False, ())`` for each block."""
    return list(map(_make_entry, zip(repeat("equal"), blocks, blocks, repeat(False), repeat(()))))


def _blocks_json_in_python(
    entries: Sequence[BlockDiff],
    template: dict[str, Any],
    to_json: Callable[[BlockDiff], dict[str, Any]],
) -> list[dict[str, Any]]:
    """The JSON of each entry: from the template for an untouched block, else by to_json."""
    blocks: list[dict[str, Any]] = []
    add = blocks.append
    for entry in entries:
        # Unpacked rather than read by name: this runs once per block of the document.
        op, old, new, _, _ = entry
        if new is not None and new is old and op == "equal":
            # An untouched block (the same Block on both sides) is the bulk of most
            # comparisons: copying a template is the cheapest way to build its dict.
            block_id, kind, _, _, _, text, _, _ = new
            item = template.copy()
            item["old_id"] = item["new_id"] = block_id
            item["kind"] = kind
            item["text"] = text
            item["tokens"] = []
            add(item)
        else:
            add(to_json(entry))
    return blocks


# The same loops compiled (_speedups.c, docs/decisions.md), when the install built them.
_untouched_entries: Callable[[Sequence[Block]], list[BlockDiff]]
_blocks_json: Callable[
    [Sequence[BlockDiff], dict[str, Any], Callable[[BlockDiff], dict[str, Any]]],
    list[dict[str, Any]],
]
try:
    from repo_store.diff import _speedups
except ImportError:  # a source tree nobody has built
    _untouched_entries = _untouched_entries_in_python
    _blocks_json = _blocks_json_in_python
else:
    _untouched_entries = partial(_speedups.untouched_entries, BlockDiff, "equal")
    _blocks_json = _speedups.blocks_json


def diff_texts(old: str, new: str) -> TextDiff:
    """Compare two versions of a document block by block, then word by word."""
    with paused_collector():
        return _diff_texts(old, new)


def _diff_texts(old: str, new: str) -> TextDiff:
    old = normalise_text(old)
    new = normalise_text(new)
    old_blocks, new_blocks, shared = parse_pair(old, new)
    alignment = align_blocks(old_blocks, new_blocks, shared)
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
    entries = _entries(alignment, shared, stats, WordBudget())
    warnings: list[DiffWarning] = []
    dropped = _bidi_warnings("old", old, old_blocks, warnings)
    dropped += _bidi_warnings("new", new, new_blocks, warnings)
    return TextDiff(tuple(entries), tuple(warnings), dropped, stats)


def _entries(
    alignment: Alignment,
    shared: Sequence[tuple[int, int, int]],
    stats: dict[str, int],
    budget: WordBudget,
) -> list[BlockDiff]:
    old, new = alignment.old, alignment.new
    in_order = alignment.in_order
    deleted_after = _deletions_by_place(alignment)
    entries: list[BlockDiff] = []
    for i in deleted_after.get(-1, ()):
        entries.append(_deleted(old[i], stats))
    j = 0
    for start, _, length in (*shared, (len(new), 0, 0)):
        while j < start:
            _add_entry(alignment, j, stats, entries, budget)
            for i in deleted_after.get(j, ()):
                entries.append(_deleted(old[i], stats))
            j += 1
        if not length:
            continue
        if in_order.find(0, start, start + length) >= 0:
            continue  # part of the run moved: its blocks go one by one above
        # A run of blocks the new version took unchanged from the old one, the bulk of most
        # comparisons, made in one go.  Only its last block can be followed by a deletion:
        # an old block inside the run has its neighbours in the run too.
        run = new[start : start + length]
        entries.extend(_untouched_entries(run))
        stats["equal"] += length
        j = start + length
        for i in deleted_after.get(j - 1, ()):
            entries.append(_deleted(old[i], stats))
    return entries


def _deletions_by_place(alignment: Alignment) -> dict[int, list[int]]:
    """Place each deleted block after the new index of the old block before it that kept its
    place in the new order (-1: before everything)."""
    new_of_old, in_order = alignment.new_of_old, alignment.in_order
    deleted_after: dict[int, list[int]] = {}
    anchor, previous = -1, -1
    for i in indices_of(new_of_old, -1):
        # The blocks between two deletions are all paired; look back over them only, so that
        # each old block is looked at once at most and most not at all.
        for k in range(i - 1, previous, -1):
            if in_order[new_of_old[k]]:
                anchor = new_of_old[k]
                break
        deleted_after.setdefault(anchor, []).append(i)
        previous = i
    return deleted_after


def _add_entry(
    alignment: Alignment, j: int, stats: dict[str, int], out: list[BlockDiff], budget: WordBudget
) -> None:
    """Append the comparison of new block ``j`` (deletions after it are the caller's)."""
    block = alignment.new[j]
    i = alignment.old_of_new[j]
    if i < 0:
        runs, _, inserted = replace_all("", block.text)
        stats["words_inserted"] += inserted
        stats["insert"] += 1
        out.append(BlockDiff("insert", None, block, False, tuple(runs)))
        return
    before = alignment.old[i]
    in_order = bool(alignment.in_order[j])
    if in_order and before.text == block.text and before.id == block.id:
        stats["equal"] += 1
        out.append(BlockDiff("equal", before, block, False, ()))
    else:
        out.append(_paired(before, block, in_order, j in alignment.similar, stats, budget))


def _deleted(block: Block, stats: dict[str, int]) -> BlockDiff:
    runs, deleted, _ = replace_all(block.text, "")
    stats["words_deleted"] += deleted
    stats["delete"] += 1
    return BlockDiff("delete", block, None, False, tuple(runs))


def _paired(
    before: Block,
    after: Block,
    in_order: bool,
    similar: bool,
    stats: dict[str, int],
    budget: WordBudget,
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
    if (same_wording or similar) and budget.remaining > 0:
        runs, deleted, inserted = diff_words(before.text, after.text, budget)
    else:
        # Paired only by number: the wording has too little in common to be worth aligning;
        # or the comparison has spent its word budget (words.py) on blocks before this one.
        runs, deleted, inserted = replace_all(before.text, after.text)
    stats["words_deleted"] += deleted
    stats["words_inserted"] += inserted
    return BlockDiff(op, before, after, renumbered, tuple(runs))


def _bidi_warnings(side: str, text: str, blocks: list[Block], out: list[DiffWarning]) -> int:
    """Report bidi controls of one version; return how many did not fit under the cap."""
    if not has_bidi_control(text):
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
