"""The visible text of a Word paragraph: runs, fields, hyperlinks and tracked changes in one mode.

``accept`` reads insertions and drops deletions, ``reject`` the other way round, as Word's
"Accept all" and "Reject all" would leave the text.  Hidden runs, field instructions, comments,
footnote marks and drawings give no text.
"""

from __future__ import annotations

import re
from typing import Literal

from lxml import etree

from repo_store.word.numbering import W

Mode = Literal["accept", "reject"]
INSERTED = (W + "ins", W + "moveTo")
DELETED = (W + "del", W + "moveFrom")
# Containers whose children are read as if they stood in the paragraph itself.
_TRANSPARENT = frozenset(
    {W + "hyperlink", W + "smartTag", W + "customXml", W + "fldSimple", W + "sdtContent"}
)
_SDT = W + "sdt"
# Symbol-font code points (F000–FFFF) are private-use glyphs, not text.
_SYMBOL_CODE = re.compile(r"[0-9A-Ea-e][0-9A-Fa-f]{3}")
_RUN = W + "r"
_NO_TEXT_IN_RUN = frozenset(
    {W + "instrText", W + "delInstrText", W + "rPr", W + "footnoteReference"}
)


def dropped(element: etree._Element, mode: Mode) -> bool:
    """Whether a revision element's content disappears in this mode."""
    return element.tag in (DELETED if mode == "accept" else INSERTED)


def mark_removed(ppr: etree._Element | None, mode: Mode) -> bool:
    """Whether the paragraph mark itself goes away, joining the paragraph to the next one."""
    rpr = None if ppr is None else ppr.find(W + "rPr")
    if rpr is None:
        return False
    return any(dropped(child, mode) for child in rpr if child.tag in INSERTED + DELETED)


def _hidden(run: etree._Element) -> bool:
    rpr = run.find(W + "rPr")
    if rpr is None:
        return False
    for name in ("vanish", "webHidden"):
        flag = rpr.find(W + name)
        if flag is not None and flag.get(W + "val", "true") not in ("0", "false", "off"):
            return True
    return False


class FieldState:
    """Open complex fields (``w:fldChar``): instructions hide text, results show it."""

    def __init__(self) -> None:
        self._stack: list[bool] = []  # True once the field reached its result

    def char(self, kind: str | None) -> None:
        """Follow one ``w:fldChar``."""
        if kind == "begin":
            self._stack.append(False)
        elif kind == "separate" and self._stack:
            self._stack[-1] = True
        elif kind == "end" and self._stack:
            self._stack.pop()

    @property
    def showing(self) -> bool:
        """Whether text read now is shown (outside every field instruction)."""
        return all(self._stack)


class ParagraphText:
    """Collect the shown text of paragraphs read one after another in one mode."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.fields = FieldState()

    def read(self, paragraph: etree._Element) -> str:
        """The text of one paragraph's content (its properties excluded)."""
        out: list[str] = []
        self._children(paragraph, out)
        return "".join(out)

    def _children(self, parent: etree._Element, out: list[str]) -> None:
        for child in parent:
            tag = child.tag
            if tag == _RUN:
                self._run(child, out)
            elif tag in _TRANSPARENT:
                self._children(child, out)
            elif tag == _SDT:
                content = child.find(W + "sdtContent")
                if content is not None:
                    self._children(content, out)
            elif tag in INSERTED or tag in DELETED:
                if not dropped(child, self.mode):
                    self._children(child, out)

    def _run(self, run: etree._Element, out: list[str]) -> None:
        hidden = _hidden(run)
        for piece in run:
            tag = piece.tag
            if tag == W + "fldChar":
                self.fields.char(piece.get(W + "fldCharType"))
                continue
            if hidden or tag in _NO_TEXT_IN_RUN or not self.fields.showing:
                continue
            if tag == W + "t" or tag == W + "delText":
                out.append(piece.text or "")
            elif tag in (W + "tab", W + "ptab"):
                out.append(" ")
            elif tag in (W + "br", W + "cr"):
                # A page or column break ends nothing in the text; a line break is a new line.
                out.append(" " if piece.get(W + "type") in ("page", "column") else "\n")
            elif tag == W + "noBreakHyphen":
                out.append("-")
            elif tag == W + "sym":
                char = piece.get(W + "char", "")
                if _SYMBOL_CODE.fullmatch(char):
                    out.append(chr(int(char, 16)))
