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
    {W + "hyperlink", W + "smartTag", W + "customXml", W + "sdtContent"} | {W + "dir", W + "bdo"}
)
_MATH = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
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


def generated_listing(instruction: str) -> bool:
    """Whether a field instruction makes a table of contents or figures: a copy of headings
    with page numbers, which would repeat every article of the draft in the stored text."""
    return instruction.strip().upper().startswith("TOC")


class _Field:
    def __init__(self) -> None:
        self.in_result = False
        self.instruction: list[str] = []
        self.hidden_result = False


class FieldState:
    """Open complex fields (``w:fldChar``): instructions hide text, results show it, except the
    result of a table of contents."""

    def __init__(self) -> None:
        self._stack: list[_Field] = []

    def char(self, kind: str | None) -> None:
        """Follow one ``w:fldChar``."""
        if kind == "begin":
            self._stack.append(_Field())
        elif kind == "separate" and self._stack:
            field = self._stack[-1]
            field.in_result = True
            field.hidden_result = generated_listing("".join(field.instruction))
        elif kind == "end" and self._stack:
            self._stack.pop()

    def instruction(self, text: str) -> None:
        """Note a piece of the innermost field's instruction."""
        if self._stack and not self._stack[-1].in_result:
            self._stack[-1].instruction.append(text)

    @property
    def showing(self) -> bool:
        """Whether text read now is shown (in no instruction and no generated listing)."""
        return all(field.in_result and not field.hidden_result for field in self._stack)

    @property
    def closed(self) -> bool:
        """Whether every field begun has reached its result."""
        return all(field.in_result for field in self._stack)


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
            elif tag == W + "fldSimple":
                if not generated_listing(child.get(W + "instr", "")):
                    self._children(child, out)
            elif tag in _TRANSPARENT:
                self._children(child, out)
            elif tag == _SDT:
                content = child.find(W + "sdtContent")
                if content is not None:
                    self._children(content, out)
            elif tag in (_MATH + "oMath", _MATH + "oMathPara"):
                # A formula's characters in reading order; its layout has no plain-text form.
                out.append("".join(t.text or "" for t in child.iter(_MATH + "t")))
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
            if tag == W + "instrText":
                self.fields.instruction(piece.text or "")
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
