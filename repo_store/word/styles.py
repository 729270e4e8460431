"""Paragraph styles of styles.xml that matter to the text: headings, linked numbering, language."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from lxml import etree

from repo_store.word.numbering import W

_HEADING_NAME = re.compile(r"heading ([1-9])")
_MAX_DEPTH = 32  # w:basedOn chains are short; a cycle must not loop forever


@dataclass(frozen=True)
class StyleNumbering:
    """The numbering a paragraph style carries: an instance, and a level when the style says."""

    num_id: str
    ilvl: int | None
    source: str | None = None  # the style that states it (a style may inherit it)


@dataclass(frozen=True)
class _Style:
    name: str
    based_on: str | None
    numbering: StyleNumbering | None
    outline: int | None


def _outline(ppr: etree._Element | None) -> int | None:
    if ppr is None:
        return None
    element = ppr.find(W + "outlineLvl")
    value = None if element is None else element.get(W + "val")
    return int(value) if value is not None and value.isdigit() else None


def numbering_of(ppr: etree._Element | None) -> StyleNumbering | None:
    """The ``w:numPr`` of some paragraph properties, if they have one."""
    numpr = None if ppr is None else ppr.find(W + "numPr")
    if numpr is None:
        return None
    num = numpr.find(W + "numId")
    lvl = numpr.find(W + "ilvl")
    lvl_value = None if lvl is None else lvl.get(W + "val")
    return StyleNumbering(
        "" if num is None else num.get(W + "val", ""),
        int(lvl_value) if lvl_value is not None and lvl_value.isdigit() else None,
    )


class Styles:
    """The paragraph styles of a document and its default language."""

    def __init__(self, root: etree._Element | None) -> None:
        self._styles: dict[str, _Style] = {}
        self.default_paragraph: str | None = None
        self.language: str | None = None
        if root is None:
            return
        for style in root.iter(W + "style"):
            # Numbering styles are kept for w:numStyleLink; character and table styles do nothing.
            if style.get(W + "type", "paragraph") not in ("paragraph", "numbering"):
                continue
            style_id = style.get(W + "styleId", "")
            name = style.find(W + "name")
            based = style.find(W + "basedOn")
            ppr = style.find(W + "pPr")
            self._styles[style_id] = _Style(
                (name.get(W + "val", "") if name is not None else style_id).lower(),
                None if based is None else based.get(W + "val"),
                numbering_of(ppr),
                _outline(ppr),
            )
            if style.get(W + "default") in ("1", "true", "on"):
                self.default_paragraph = style_id
        self.language = self._language(root)

    def _language(self, root: etree._Element) -> str | None:
        defaults = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
        value = None if defaults is None else defaults.get(W + "val")
        if not value:
            return None
        primary = value.split("-")[0].lower()
        return primary if primary.isascii() and primary.isalpha() and len(primary) <= 8 else None

    def _chain(self, style_id: str | None) -> list[_Style]:
        return [style for _, style in self._chain_ids(style_id)]

    def _chain_ids(self, style_id: str | None) -> list[tuple[str, _Style]]:
        chain: list[tuple[str, _Style]] = []
        while style_id and style_id in self._styles and len(chain) < _MAX_DEPTH:
            style = self._styles[style_id]
            chain.append((style_id, style))
            style_id = style.based_on
        return chain

    def numbering(self, style_id: str | None) -> StyleNumbering | None:
        """The numbering a paragraph of this style gets from it or the styles it is based on."""
        for source, style in self._chain_ids(style_id or self.default_paragraph):
            if style.numbering is not None:
                return replace(style.numbering, source=source)
        return None

    def heading_level(self, style_id: str | None) -> int | None:
        """1 for the title and "heading 1", n for "heading n", None for body text."""
        for style in self._chain(style_id or self.default_paragraph):
            if style.name == "title":
                return 1
            match = _HEADING_NAME.fullmatch(style.name)
            if match:
                return int(match.group(1))
            if style.outline is not None:
                return style.outline + 1 if style.outline < 9 else None
        return None

    def is_title(self, style_id: str | None) -> bool:
        """Whether the paragraph style is Word's "Title"."""
        chain = self._chain(style_id)
        return bool(chain) and chain[0].name == "title"

    def numbering_styles(self) -> dict[str, str]:
        """Numbering styles (``w:numStyleLink`` targets) by id → the instance they name."""
        return {
            style_id: style.numbering.num_id
            for style_id, style in self._styles.items()
            if style.numbering is not None
        }
