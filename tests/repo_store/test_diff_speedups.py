"""The compiled loops of the diff give exactly what their Python definitions give."""

from __future__ import annotations

import gc
import importlib.util
import json
import subprocess
import sys
import tracemalloc
from functools import partial
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_store.diff import _speedups, blocks, textdiff
from repo_store.diff import text as text_module
from repo_store.diff.blocks import _START, _Outline, _ParsePieces, _pieces, parse_blocks
from repo_store.diff.grammar import GRAMMAR
from repo_store.diff.text import normalise_text
from repo_store.diff.textdiff import BlockDiff, diff_texts
from tests.repo_store.test_diff_properties import SETTINGS, articles, render

# Pieces of text that exercise every branch: each marker form (with the suffixes, Roman
# numerals and Cyrillic letters numbers take), headings with lines under them, repeated
# numbers (renamed ids), odd whitespace, non-printable and non-BMP characters.
FRAGMENTS = [
    "Article 5",
    "ARTICLE 12a",
    "Art. 7-1",
    "Статья 3. Сфера",
    "Ст. 4",
    "СТАТЬЯ 9",
    "§ 4",
    "Section 2:",
    "Sec. 3",
    "Chapter II",
    "Глава 2",
    "Раздел IV",
    "PART 1",
    "# Title",
    "## Статья 9. Заголовок",
    "#",
    "(1) ",
    "1. ",
    "2) ",
    "1.1 ",
    "1.2. ",
    "(2a) ",
    "а) ",
    "б) ",
    "(b) ",
    "(ii) ",
    "ё) ",
    "- ",
    "* ",
    "• ",
    "text",
    "слово",
    "Article 5 of",
    "5bis",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n \n",
    "\t",
    "\u00a0",
    "\u2028",
    "\u202e",
    "\u200b",
    "x\u0301",
    "\U0001f600",
    ".",
    ":",
    "—",
    "«",
]
marker_soup = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)


def parse_with(parse: _ParsePieces, text: str) -> tuple[Any, ...]:
    blocks_out: list[blocks.Block] = []
    renamed: list[int] = []
    first: list[int] = []
    outlines: list[_Outline] = []
    after = parse(_pieces(normalise_text(text)), _START, {}, blocks_out, renamed, first, outlines)
    return blocks_out, [type(b) for b in blocks_out], renamed, first, outlines, after


def assert_same(text: str) -> None:
    assert parse_with(_speedups.parse_pieces, text) == parse_with(blocks._parse_pieces, text)


def test_the_diff_uses_the_compiled_loops() -> None:
    # An install that failed to build them would still pass every other test, only slower.
    assert blocks._split is _speedups.split_pieces
    assert blocks._spans is _speedups.piece_spans
    assert blocks._common is _speedups.common_run
    assert blocks._parse is _speedups.parse_pieces
    assert textdiff._blocks_json is _speedups.blocks_json
    assert isinstance(textdiff._untouched_entries, partial)
    assert textdiff._untouched_entries.func is _speedups.untouched_entries
    assert text_module._count_words is _speedups.count_words
    assert text_module._word_set is _speedups.word_set
    assert text_module._contains_any is _speedups.contains_any


def fresh_speedups() -> ModuleType:
    """A second module object made from the compiled extension, as a new interpreter would."""
    spec = importlib.util.find_spec("repo_store.diff._speedups")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_module_object_keeps_its_own_grammar() -> None:
    fresh = fresh_speedups()
    assert fresh is not _speedups
    with pytest.raises(RuntimeError):
        fresh.parse_pieces(["Статья 1"], _START, {}, [], [], [], [])
    with pytest.raises(RuntimeError):
        fresh.count_words("two words")
    fresh.configure(GRAMMAR)
    fresh.configure_words(text_module._COMBINING_RANGES)
    text = render_law()
    assert parse_with(fresh.parse_pieces, text) == parse_with(_speedups.parse_pieces, text)
    assert fresh.count_words(text) == _speedups.count_words(text)
    del fresh
    gc.collect()  # clearing the fresh module's state leaves the imported one whole
    assert parse_with(_speedups.parse_pieces, text) == parse_with(blocks._parse_pieces, text)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("keywords", list(GRAMMAR.keywords)), TypeError),
        (("block", dict), TypeError),
        (("route_bits", (1, 2, 4)), TypeError),
        (("routes", {"ab": 1}), TypeError),
        (("letters", b"abc"), TypeError),
        (None, AttributeError),
    ],
)
def test_a_bad_grammar_is_refused(change: tuple[str, Any] | None, error: type[Exception]) -> None:
    # A field of the wrong type, or something that is no grammar at all.
    grammar: object = GRAMMAR._replace(**dict([change])) if change else "not a grammar"
    fresh = fresh_speedups()
    with pytest.raises(error):
        fresh.configure(grammar)
    with pytest.raises(RuntimeError):  # and it configured nothing
        fresh.split_pieces("text")
    fresh.configure(GRAMMAR)
    with pytest.raises(error):
        fresh.configure(grammar)
    text = render_law()  # nor did it replace any of the grammar it had
    assert parse_with(fresh.parse_pieces, text) == parse_with(blocks._parse_pieces, text)


@SETTINGS
@given(marker_soup)
def test_same_blocks_on_marker_soup(text: str) -> None:
    assert_same(text)


@SETTINGS
@given(articles, st.integers(20, 90))
def test_same_blocks_on_laws(law: list[Any], width: int) -> None:
    assert_same(render(law, width))


def test_same_blocks_when_parsing_goes_on_from_an_outline() -> None:
    text = "Статья 2. Термины\n1. Первый\nа) пункт\n- один\nтекст\n# Раздел\nещё"
    pieces = _pieces(text)
    outline: _Outline = ("art_1", "Статья 1", "art_1__para_3", 4, 2, 1)
    seen = {"art_2": 2, "h2": 2}
    results = []
    for parse in (_speedups.parse_pieces, blocks._parse_pieces):
        out: list[blocks.Block] = []
        renamed: list[int] = []
        after = parse(pieces, outline, dict(seen), out, renamed, [], [])
        results.append((out, renamed, after))
    assert results[0] == results[1]
    assert results[0][1]  # art_2 and h2 were taken: both renamed


@pytest.mark.parametrize(
    "arguments",
    [
        ([""], _START),
        (["text"], ("", "", "", 0, 0)),
        (["text"], ("", "", "", "0", 0, 0)),
        ([b"bytes"], _START),
    ],
)
def test_bad_arguments_raise(arguments: tuple[Any, Any]) -> None:
    pieces, outline = arguments
    with pytest.raises((TypeError, ValueError)):
        _speedups.parse_pieces(pieces, outline, {}, [], [], [], [])


def test_parsing_leaks_nothing() -> None:
    pieces = _pieces(render_law())
    for _ in range(3):  # warm caches (number slugs, interned strings)
        _speedups.parse_pieces(pieces, _START, {}, [], [], [], [])
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(50):
            _speedups.parse_pieces(pieces, _START, {}, [], [], [], [])
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # One parse makes about 100 kB of blocks; fifty that leaked a little each would show here.
    assert grown < 20_000


def render_law() -> str:
    paragraphs = "\n".join(f"{n}. Текст пункта {n}\nна двух строках" for n in range(1, 6))
    return "\n\n".join(
        f"Статья {n}. Заголовок\n{paragraphs}\nа) подпункт\n- черта\nабзац" for n in range(1, 40)
    )


@SETTINGS
@given(marker_soup, marker_soup)
def test_same_pieces_on_marker_soup(old: str, new: str) -> None:
    for text in (old, new, old + "\n\n" + new):
        text = normalise_text(text)
        assert _speedups.split_pieces(text) == blocks._split_pieces(text)


@SETTINGS
@given(marker_soup, marker_soup)
def test_same_spans_and_common_runs(old: str, new: str) -> None:
    old, new = normalise_text(old), normalise_text(new)
    packed = _speedups.piece_spans(new)
    assert packed == blocks._piece_spans(new)
    spans = memoryview(packed).cast("q")
    assert [new[spans[k] : spans[k + 1]] for k in range(0, len(spans), 2)] == _pieces(new)
    pieces = _pieces(old)
    for i in range(len(pieces) + 1):
        for j in range(len(spans) // 2 + 1):
            assert _speedups.common_run(pieces, i, new, packed, j) == blocks._common_run(
                pieces, i, new, packed, j
            )


@SETTINGS
@given(marker_soup, marker_soup)
def test_same_json(old: str, new: str) -> None:
    diff = diff_texts(old, new)
    compiled = _speedups.blocks_json(diff.blocks, textdiff._UNTOUCHED, BlockDiff.to_json)
    assert compiled == textdiff._blocks_json_in_python(
        diff.blocks, textdiff._UNTOUCHED, BlockDiff.to_json
    )
    assert [list(item) for item in compiled] == [list(entry.to_json()) for entry in diff.blocks]


def test_same_untouched_entries() -> None:
    blocks_in = parse_blocks(render_law())
    compiled = textdiff._untouched_entries(blocks_in)
    assert compiled == textdiff._untouched_entries_in_python(blocks_in)
    assert all(type(entry) is BlockDiff for entry in compiled)
    assert not any(gc.is_tracked(entry) for entry in compiled)


@SETTINGS
@given(st.text(), marker_soup)
def test_same_words(anything: str, soup: str) -> None:
    for text in (anything, soup, anything + soup):
        assert _speedups.count_words(text) == text_module._count_words_in_python(text)
        assert _speedups.word_set(text) == text_module._word_set_in_python(text)
        for chars in ("\u202e\u2066", "x", "", "\U0001f600", "\u0430"):
            assert _speedups.contains_any(text, chars) == text_module._contains_any_in_python(
                text, chars
            )


FALLBACK = """
import json, sys
sys.modules["repo_store.diff._speedups"] = None  # as if the install had not built it
from repo_store.diff import blocks, diff_texts, text, textdiff
assert blocks._parse is blocks._parse_pieces and text._word_set is text._word_set_in_python
assert textdiff._blocks_json is textdiff._blocks_json_in_python
old, new = json.load(sys.stdin)
print(json.dumps(diff_texts(old, new).to_json(), ensure_ascii=False))
"""


def test_the_python_loops_alone_give_the_same_diff() -> None:
    old = render_law()
    new = old.replace("Текст пункта 3", "Новый текст пункта 3").replace("Статья 7.", "Статья 70.")
    new = "# Закон\n\n" + new + "\n\nСтатья 99. Новая\n1. Ещё (1) пункт\n\u202e"
    done = subprocess.run(
        [sys.executable, "-c", FALLBACK],
        input=json.dumps([old, new]),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == json.loads(json.dumps(diff_texts(old, new).to_json()))
