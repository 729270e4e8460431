"""Word's automatic numbering: the labels ("Статья 5.", "1.2.", "а)") that numbering.xml makes.

A paragraph names a numbering instance (``w:numId``) and a level (``w:ilvl``); the instance points
at an abstract definition whose levels give the start, the format and the level text
(``Статья %1.``, ``%1.%2.``).  Counters are kept per abstract definition, shared by every instance
without a start override; an instance that overrides a start counts on its own from where it
first appears.  The formats supported are listed in docs/formats.md, "Word documents in".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
LEVELS = 9
# The letters LibreOffice counts with for russianLower (and shows for Word's files): the
# alphabet without ё, й, ъ, ь; after я it goes on аа, аб… like spreadsheet columns.
RUSSIAN_LOWER = "абвгдежзиклмнопрстуфхцчшщыэюя"
_ROMAN = (
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)
_PLACEHOLDER = re.compile(r"%([1-9])")
BULLET = "bullet"


@dataclass(frozen=True)
class Level:
    """One level of a numbering definition, as numbering.xml states it."""

    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    restart: int | None = None  # w:lvlRestart: 0 never, n after level n (1-based), None usual
    legal: bool = False  # w:isLgl: show every level's number in decimal
    style: str | None = None  # w:pStyle: the paragraph style this level belongs to


def _val(element: etree._Element | None, name: str) -> str | None:
    child = None if element is None else element.find(W + name)
    return None if child is None else child.get(W + "val")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _level(element: etree._Element, base: Level | None = None) -> Level:
    level = base or Level()
    start = _val(element, "start")
    fmt = _val(element, "numFmt")
    text = _val(element, "lvlText")
    restart = _val(element, "lvlRestart")
    legal = element.find(W + "isLgl")
    style = _val(element, "pStyle")
    return replace(
        level,
        start=_int(start, level.start) if start is not None else level.start,
        fmt=fmt or level.fmt,
        text=text if text is not None else level.text,
        restart=_int(restart, 1) if restart is not None else level.restart,
        legal=(legal.get(W + "val", "1") not in ("0", "false", "off"))
        if legal is not None
        else level.legal,
        style=style or level.style,
    )


def _letters(n: int, alphabet: str) -> str:
    """Word's letter numbering: a…z, then aa, bb…, then aaa: the letter repeated."""
    if n < 1:
        return str(n)
    count = (n - 1) // len(alphabet) + 1
    return alphabet[(n - 1) % len(alphabet)] * count


def _columns(n: int, alphabet: str) -> str:
    """Bijective numbering: я, then аа, аб… (LibreOffice's Russian letter sequence)."""
    if n < 1:
        return str(n)
    out = []
    while n:
        n, digit = divmod(n - 1, len(alphabet))
        out.append(alphabet[digit])
    return "".join(reversed(out))


def _roman(n: int) -> str:
    if not 0 < n < 4000:
        return str(n)
    out = []
    for value, letters in _ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def format_number(n: int, fmt: str) -> str:
    """Spell counter ``n`` in a ``w:numFmt``; formats not listed fall back to decimal."""
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "lowerLetter":
        return _letters(n, "abcdefghijklmnopqrstuvwxyz")
    if fmt == "upperLetter":
        return _letters(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt == "russianLower":
        return _columns(n, RUSSIAN_LOWER)
    if fmt == "russianUpper":
        return _columns(n, RUSSIAN_LOWER.upper())
    if fmt == "ordinal":
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    if fmt == "none":
        return ""
    return str(n)


@dataclass(frozen=True)
class Instance:
    """A ``w:num``: its abstract definition and the levels it overrides."""

    abstract: str
    levels: dict[int, Level]
    starts: dict[int, int]  # w:startOverride by level


@dataclass(frozen=True)
class Label:
    """A computed label; a bullet's text is "-"."""

    text: str
    bullet: bool


class NumberingDefinitions:
    """The abstract definitions and instances of numbering.xml, resolved for lookup."""

    def __init__(self, root: etree._Element | None) -> None:
        self.abstracts: dict[str, dict[int, Level]] = {}
        self.style_links: dict[str, str] = {}  # abstract id → numbering style it follows
        self.instances: dict[str, Instance] = {}
        if root is None:
            return
        for abstract in root.iter(W + "abstractNum"):
            levels = {_int(lvl.get(W + "ilvl"), 0): _level(lvl) for lvl in abstract.iter(W + "lvl")}
            key = abstract.get(W + "abstractNumId", "")
            self.abstracts[key] = levels
            link = _val(abstract, "numStyleLink")
            if link:
                self.style_links[key] = link
        for num in root.iter(W + "num"):
            overridden: dict[int, Level] = {}
            starts: dict[int, int] = {}
            for override in num.iter(W + "lvlOverride"):
                ilvl = _int(override.get(W + "ilvl"), 0)
                start = _val(override, "startOverride")
                if start is not None:
                    starts[ilvl] = _int(start, 1)
                lvl = override.find(W + "lvl")
                if lvl is not None:
                    overridden[ilvl] = _level(lvl)
            abstract_id = _val(num, "abstractNumId") or ""
            self.instances[num.get(W + "numId", "")] = Instance(abstract_id, overridden, starts)

    def resolve_links(self, style_numbering: dict[str, str]) -> None:
        """Follow ``w:numStyleLink``: an abstract that only names a numbering style."""
        for key, style in self.style_links.items():
            num_id = style_numbering.get(style)
            target = self.instances.get(num_id or "")
            if target is not None and target.abstract in self.abstracts:
                self.abstracts[key] = self.abstracts[target.abstract]

    def level(self, num_id: str, ilvl: int) -> Level | None:
        """The level definition a paragraph with this instance and level is numbered by."""
        instance = self.instances.get(num_id)
        if instance is None:
            return None
        if ilvl in instance.levels:
            return instance.levels[ilvl]
        return self.abstracts.get(instance.abstract, {}).get(ilvl)

    def level_of_style(self, num_id: str, style_id: str) -> int | None:
        """The level whose ``w:pStyle`` is this style, for style-linked numbering."""
        instance = self.instances.get(num_id)
        if instance is None:
            return None
        for ilvl, level in self.abstracts.get(instance.abstract, {}).items():
            if level.style == style_id:
                return ilvl
        return None


class NumberingCounter:
    """The counters of one document read in order; ``next_label`` advances them."""

    def __init__(self, definitions: NumberingDefinitions) -> None:
        self.definitions = definitions
        self._counters: dict[str, list[int | None]] = {}

    def _key(self, num_id: str, instance: Instance) -> str:
        # An instance that restarts a level counts on its own; the others share the abstract's.
        return f"num:{num_id}" if instance.starts else f"abstract:{instance.abstract}"

    def _start(self, num_id: str, ilvl: int) -> int:
        instance = self.definitions.instances[num_id]
        if ilvl in instance.starts:
            return instance.starts[ilvl]
        level = self.definitions.level(num_id, ilvl)
        return level.start if level is not None else 1

    def next_label(self, num_id: str, ilvl: int) -> Label | None:
        """Count one paragraph at this level and return its label, or None if unnumbered."""
        ilvl = min(max(ilvl, 0), LEVELS - 1)
        level = self.definitions.level(num_id, ilvl)
        instance = self.definitions.instances.get(num_id)
        if level is None or instance is None:
            return None
        counters = self._counters.setdefault(self._key(num_id, instance), [None] * LEVELS)
        current = counters[ilvl]
        counters[ilvl] = self._start(num_id, ilvl) if current is None else current + 1
        for deeper in range(ilvl + 1, LEVELS):
            below = self.definitions.level(num_id, deeper)
            restart = below.restart if below is not None else None
            if restart is None or (restart != 0 and ilvl < restart):
                counters[deeper] = None
        if level.fmt == BULLET:
            return Label("-", True)

        def spell(match: re.Match[str]) -> str:
            at = int(match.group(1)) - 1
            shown = counters[at]
            value = shown if shown is not None else self._start(num_id, at)
            of_level = self.definitions.level(num_id, at)
            fmt = of_level.fmt if of_level is not None else "decimal"
            if level.legal and fmt != "none":
                fmt = "decimal"
            return format_number(value, fmt)

        return Label(_PLACEHOLDER.sub(spell, level.text), False)
