"""The loops of the diff that run once per block, compiled (_speedups.c)."""

from collections.abc import Callable, Sequence
from re import Pattern
from typing import Any

from repo_store.diff.blocks import Block, _ParsePieces
from repo_store.diff.textdiff import BlockDiff

def configure(
    provision: Pattern[str],
    heading: Pattern[str],
    point: Pattern[str],
    line_marker: Pattern[str],
    keywords: tuple[str, ...],
    routes: dict[str, int],
    prefixes: dict[str, str],
    grouping: frozenset[str],
    number_slug: Callable[[str], str],
    slugs: dict[str, str],
    unique: Callable[[str, dict[str, int]], str],
    fold_whitespace: Callable[[str], str],
    letters: str,
    number_ends: str,
    title_initials: str,
    title_punctuation: str,
    block: type[Block],
    route_bits: tuple[int, int, int, int],
) -> None: ...
def split_pieces(text: str) -> list[str]: ...
def piece_spans(text: str) -> bytes: ...
def common_run(pieces: list[str], i: int, text: str, spans: bytes, j: int) -> int: ...

parse_pieces: _ParsePieces

def blocks_json(
    entries: Sequence[BlockDiff],
    template: dict[str, Any],
    to_json: Callable[[BlockDiff], dict[str, Any]],
) -> list[dict[str, Any]]: ...
def untouched_entries(
    entry_type: type[BlockDiff], op: str, blocks: Sequence[Block]
) -> list[BlockDiff]: ...
def configure_words(combining: Sequence[tuple[int, int]]) -> None: ...
def count_words(text: str) -> int: ...
def word_set(text: str) -> frozenset[str]: ...
def contains_any(text: str, chars: str) -> bool: ...
