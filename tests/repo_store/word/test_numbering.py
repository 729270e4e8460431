"""Numbering labels: every number format, and how counters restart, continue and override."""

from __future__ import annotations

import pytest
from lxml import etree

from repo_store.word.numbering import (
    NumberingCounter,
    NumberingDefinitions,
    format_number,
)
from tests.support.docx_builder import Lvl, Numbering


@pytest.mark.parametrize(
    ("fmt", "numbers", "expected"),
    [
        ("decimal", [1, 9, 10, 125], ["1", "9", "10", "125"]),
        ("decimalZero", [1, 9, 10, 125], ["01", "09", "10", "125"]),
        ("lowerLetter", [1, 26, 27, 28, 53], ["a", "z", "aa", "bb", "aaa"]),
        ("upperLetter", [1, 3, 26, 27], ["A", "C", "Z", "AA"]),
        ("lowerRoman", [1, 4, 9, 14, 40, 1999], ["i", "iv", "ix", "xiv", "xl", "mcmxcix"]),
        ("upperRoman", [1, 3, 4, 12, 3999], ["I", "III", "IV", "XII", "MMMCMXCIX"]),
        (
            "ordinal",
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 101],
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"],
        ),
        ("none", [1, 2], ["", ""]),
        ("cardinalText", [3], ["3"]),  # not supported: shown as a decimal
    ],
)
def test_number_formats(fmt: str, numbers: list[int], expected: list[str]) -> None:
    assert [format_number(n, fmt) for n in numbers] == expected


def test_russian_letters_follow_libreoffice() -> None:
    # Without ё, й, ъ, ь; after я comes аа, аб… (checked against LibreOffice's text export).
    lower = [format_number(n, "russianLower") for n in range(1, 32)]
    assert "".join(lower[:29]) == "абвгдежзиклмнопрстуфхцчшщыэюя"
    assert lower[29:] == ["аа", "аб"]
    assert format_number(10, "russianUpper") == "К"


def _counter(numbering: Numbering) -> NumberingCounter:
    return NumberingCounter(NumberingDefinitions(etree.fromstring(numbering.xml().encode())))


def _labels(counter: NumberingCounter, steps: list[tuple[str, int]]) -> list[str]:
    out = []
    for num_id, ilvl in steps:
        label = counter.next_label(num_id, ilvl)
        out.append("∅" if label is None else label.text)
    return out


def test_deeper_levels_restart_when_a_higher_level_appears() -> None:
    counter = _counter(
        Numbering(
            {1: [Lvl("decimal", "%1."), Lvl("decimal", "%1.%2."), Lvl("decimal", "%1.%2.%3.")]},
            {1: (1, {})},
        )
    )
    steps = [("1", 0), ("1", 1), ("1", 2), ("1", 2), ("1", 1), ("1", 2), ("1", 0), ("1", 2)]
    # A level shown before any paragraph at its parent level shows the parent's start value.
    assert _labels(counter, steps) == [
        "1.",
        "1.1.",
        "1.1.1.",
        "1.1.2.",
        "1.2.",
        "1.2.1.",
        "2.",
        "2.1.1.",
    ]


def test_lvl_restart_zero_never_restarts() -> None:
    counter = _counter(
        Numbering(
            {1: [Lvl("decimal", "Статья %1."), Lvl("decimal", "%2)", restart=0)]}, {1: (1, {})}
        )
    )
    assert _labels(counter, [("1", 0), ("1", 1), ("1", 1), ("1", 0), ("1", 1)]) == [
        "Статья 1.",
        "1)",
        "2)",
        "Статья 2.",
        "3)",
    ]


def test_instances_share_an_abstract_count_unless_they_override_the_start() -> None:
    counter = _counter(
        Numbering(
            {1: [Lvl("decimal", "%1.", start=3)]},
            {1: (1, {}), 2: (1, {}), 3: (1, {0: 1}), 4: (1, {})},
        )
    )
    steps = [("1", 0), ("2", 0), ("3", 0), ("3", 0), ("4", 0), ("0", 0), ("99", 0)]
    assert _labels(counter, steps) == ["3.", "4.", "1.", "2.", "5.", "∅", "∅"]


def test_level_override_replaces_the_abstract_level() -> None:
    xml = (
        '<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        '<w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl></w:abstractNum>'
        '<w:num w:numId="1"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="0">'
        '<w:lvl w:ilvl="0"><w:start w:val="4"/><w:numFmt w:val="upperRoman"/>'
        '<w:lvlText w:val="Раздел %1"/></w:lvl></w:lvlOverride></w:num></w:numbering>'
    )
    counter = NumberingCounter(NumberingDefinitions(etree.fromstring(xml)))
    assert _labels(counter, [("1", 0), ("1", 0)]) == ["Раздел IV", "Раздел V"]


def test_legal_numbering_shows_every_level_in_decimal() -> None:
    counter = _counter(
        Numbering(
            {1: [Lvl("upperRoman", "%1."), Lvl("lowerLetter", "%1.%2.", legal=True)]}, {1: (1, {})}
        )
    )
    assert _labels(counter, [("1", 0), ("1", 0), ("1", 1), ("1", 1)]) == [
        "I.",
        "II.",
        "2.1.",
        "2.2.",
    ]


def test_bullets_are_marked_as_bullets() -> None:
    counter = _counter(Numbering({1: [Lvl("bullet", "\uf0b7")]}, {1: (1, {})}))
    label = counter.next_label("1", 0)
    assert label is not None
    assert (label.text, label.bullet) == ("-", True)


def test_no_numbering_part_numbers_nothing() -> None:
    assert NumberingCounter(NumberingDefinitions(None)).next_label("1", 0) is None
