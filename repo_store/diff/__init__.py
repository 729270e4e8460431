"""Structural, word-level comparison of two versions of a legal text (DESIGN.md §6).

Blocks
    A version is split into blocks at blank lines and at every line that starts with a marker:
    a Markdown heading (``#``…``######``), a provision (``Article 5``, ``Art. 5``,
    ``Section 5``, ``§ 5``, ``Статья 5``, ``Ст. 5``; ``Chapter``/``Глава`` and
    ``Part``/``Раздел`` as numbered headings; numbers such as ``5a``, ``5-1``, ``5.1``), a
    numbered paragraph (``(1)``, ``1.``, ``1)``, ``1.1``), a lettered item (``a)``, ``(b)``,
    ``а)``, ``(ii)``) or a bullet (``-``, ``*``, ``•``).  A heading or provision line is a
    block of its own.  Block text is NFC with every run of whitespace, line breaks included,
    folded to one space, so reflowing a paragraph changes nothing.

Ids
    ``art_5``, ``art_5__para_2``, ``art_5a__para_1__item_b`` for numbered blocks (Cyrillic
    letters transliterated: ``а)`` → ``item_a``; ``.`` in numbers → ``_``), ``ch_2``,
    ``part_1``, ``sec_6``; unnumbered blocks by position in their container (``art_5__p2``,
    ``p3``, ``h1`` for headings, ``li2`` for bullets); a repeated id gets ``~2``, ``~3``….

JSON (``TextDiff.to_json()``)
    ``{"blocks": [...], "warnings": [...], "stats": {...}}``.  ``blocks`` follow the new
    version, each deleted block right after the block that preceded it in the old version::

        {"op": "equal" | "insert" | "delete" | "replace" | "move",
         "old_id": str | null, "new_id": str | null, "kind": str, "renumbered": bool,
         "text": str,          # normalised text of the block (the old one if deleted)
         "tokens": [{"op": "equal" | "insert" | "delete", "text": str}, ...],
         "old_place": str | null}  # where a moved or renumbered block stood, as written

    ``equal`` means the wording after the marker is unchanged; ``renumbered`` says the id
    changed (article 5 became article 6).  ``move`` is a pair out of document order.
    ``tokens`` is empty when the text is unchanged; otherwise it holds runs of word and
    punctuation tokens, each run with the whitespace in front of its tokens, so that joining
    the ``equal`` and ``insert`` runs gives the new text and joining the ``equal`` and
    ``delete`` runs the old one.  ``old_place`` names, for a moved or renumbered block, where
    it stood in the old version in the document's own words ("Статья 4", "Article 4 (1)",
    "Статья 3, 2", a heading's title or a paragraph's first words), never an internal id.
    ``warnings`` lists bidi control characters as
    ``{"type": "bidi_control", "side": "old" | "new", "block", "offset", "code_point",
    "name"}``; ``stats`` counts blocks per op and words inserted and deleted.
"""

from repo_store.diff.blocks import Block, parse_blocks
from repo_store.diff.text import normalise_text
from repo_store.diff.textdiff import BlockDiff, DiffWarning, TextDiff, diff_texts
from repo_store.diff.words import TokenRun

__all__ = [
    "Block",
    "BlockDiff",
    "DiffWarning",
    "TextDiff",
    "TokenRun",
    "diff_texts",
    "normalise_text",
    "parse_blocks",
]
