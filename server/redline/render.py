"""Render a comparison (repo_store.diff) as a self-contained HTML redline: no script, inline CSS.

Every piece of document text goes through ``html.escape(..., quote=True)``; bidi controls are
shown as visible marks instead of being allowed to reorder the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape

from repo_store.diff.text import BIDI_RE, code_point_name
from repo_store.diff.textdiff import BlockDiff, TextDiff, place_of
from server.redline.headings import heading_level, heading_tag, without_marks
from server.redline.wording import words_for

# Block id (in the new version) → the numbered notes on it, each (number, quoted words); the
# number is shown at the end of the quoted words, or at the end of the block when they are
# not found there.
NoteMarks = Mapping[str, Sequence[tuple[int, str]]]

_LANG_RE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")

STYLE = """
body { font: 16px/1.5 Georgia, "Times New Roman", serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1b1b1b; background: #fff; }
header h1 { font-size: 1.4rem; margin-bottom: .25rem; }
.versions, .summary { color: #555; margin: .2rem 0; }
.warnings { border: 2px solid #b00020; background: #fff4f4; padding: .5rem 1rem; margin: 1rem 0; }
.warnings h2 { font-size: 1rem; margin: 0 0 .3rem; color: #b00020; }
.block { margin: .6rem 0; padding: .1rem .6rem; border-left: 4px solid transparent;
         unicode-bidi: isolate; white-space: pre-wrap; }
.kind-article, .kind-heading { font-weight: bold; margin-top: 1.2rem; }
h2.block, h3.block, h4.block, h5.block, h6.block { font-size: 1.15rem; }
h2.block { font-size: 1.3rem; }
.op-insert { border-left-color: #1a7f37; background: #f0fff4; }
.op-delete { border-left-color: #b00020; background: #fff5f5; }
.op-replace { border-left-color: #9a6700; }
.op-move { border-left-color: #0550ae; background: #f3f8ff; }
.renumbered { outline: 1px dashed #0550ae; }
.note { display: block; font: italic .85rem/1.3 sans-serif; color: #0550ae; }
ins { background: #c8f7d0; text-decoration: underline; }
del { background: #ffd7d5; text-decoration: line-through; }
.bidi { font: bold .8rem monospace; color: #b00020; border: 1px solid #b00020; }
"""


def render_html(
    diff: TextDiff,
    *,
    title: str,
    old_label: str,
    new_label: str,
    lang: str = "en",
    part: tuple[int, int, int, int, int] | None = None,
    style: str = STYLE,
    notes: NoteMarks | None = None,
    appendix: str = "",
    ui: str = "en",
) -> str:
    """Render the comparison as a complete HTML page that reads on its own.

    ``part`` = (page, pages, first block, end block, blocks) says that the page shows only
    these blocks of a longer comparison (whose warnings and counts it still shows whole).
    ``style`` replaces the screen stylesheet (the PDF has its own), ``notes`` puts numbered
    note marks into the text, and ``appendix`` (HTML its caller escaped, with ``text``) is
    placed after the comparison. ``ui`` is the language of the redline's own words (wording.py).
    """
    if not _LANG_RE.fullmatch(lang):
        lang = "und"
    words = words_for(ui)
    stats = diff.stats
    summary = words["summary"].format_map(
        {op: stats.get(op, 0) for op in ("insert", "delete", "replace", "move", "renumbered")}
    )
    parts = [
        "<!DOCTYPE html>\n",
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{_text(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n",
        f"<header>\n<h1>{_text(title)}</h1>\n",
        f'<p class="versions"><del>{_text(old_label)}</del> → <ins>{_text(new_label)}</ins></p>\n',
        f'<p class="summary">{_text(summary)}</p>\n',
        _part_line(part, words),
        "</header>\n",
    ]
    if diff.warnings:
        parts.append(
            f'<section class="warnings" role="alert">\n<h2>{words["warnings"]}</h2>\n<ul>\n'
        )
        for warning in diff.warnings:
            version = old_label if warning.side == "old" else new_label
            said = words["warning"].format(
                code_point=_text(warning.code_point),
                name=_text(warning.name),
                block=f"<code>{_text(warning.block)}</code>",
                version=_text(version),
                offset=warning.offset + 1,
            )
            parts.append(f"<li>{said}</li>\n")
        if diff.warnings_dropped:
            parts.append(f"<li>{words['more'].format(count=diff.warnings_dropped)}</li>\n")
        parts.append("</ul>\n</section>\n")
    parts.append("<main>\n")
    marks = notes or {}
    parts.extend(_block(entry, marks.get(entry.new_id or "", ()), words) for entry in diff.blocks)
    parts.append("</main>\n")
    parts.append(appendix)
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _part_line(part: tuple[int, int, int, int, int] | None, words: Mapping[str, str]) -> str:
    if part is None:
        return ""
    page, pages, first, end, blocks = part
    said = words["part"].format(page=page, pages=pages, first=first + 1, end=end, blocks=blocks)
    return f'<p class="part">{said} ({words["part_hint"]} <code>page</code>)</p>\n'


def _block(entry: BlockDiff, marks: Sequence[tuple[int, str]], words: Mapping[str, str]) -> str:
    shown = entry.shown
    side = "old" if entry.new is None else "new"
    classes = f"block op-{entry.op} kind-{shown.kind}"
    if entry.renumbered:
        classes += " renumbered"
    notes = []
    if entry.op == "move" and entry.old is not None:
        notes.append(words["moved"].format(place=place_of(entry.old)))
    if entry.renumbered and entry.old is not None:
        notes.append(words["renumbered"].format(place=place_of(entry.old)))
    if entry.op == "insert":
        notes.append(words["inserted"])
    elif entry.op == "delete":
        notes.append(words["deleted"])
    note = f'<span class="note">{_text("; ".join(notes))}</span>' if notes else ""
    runs = [(run.op, run.text) for run in entry.tokens] or [("equal", shown.text)]
    level = heading_level(shown.kind, shown.text)
    if level is not None:
        runs = without_marks(runs)
    body = _marked_runs(runs, marks)
    tag = heading_tag(level) if level is not None else "div"
    return (
        f'<{tag} class="{classes}" id="{side}-{_text(shown.id)}" '
        f'data-op="{entry.op}">{note}{body}</{tag}>\n'
    )


def _marked_runs(runs: list[tuple[str, str]], marks: Sequence[tuple[int, str]]) -> str:
    """The runs as HTML, each note's number right after its quoted words (or at the end)."""
    if not marks:
        return "".join(_run(op, text) for op, text in runs)
    # Offsets count the text as it reads now (deleted runs take no room), where quotes are.
    now = "".join(text for op, text in runs if op != "delete")
    at: dict[int, list[int]] = {}
    for number, quote in marks:
        folded = " ".join(quote.split())
        found = now.find(folded) if folded else -1
        at.setdefault(len(now) if found < 0 else found + len(folded), []).append(number)
    out: list[str] = []
    offset = 0
    for op, text in runs:
        if op == "delete":
            out.append(_run(op, text))
            continue
        cut = 0
        for place in sorted(p for p in at if offset < p <= offset + len(text)):
            out.append(_run(op, text[cut : place - offset]))
            out.append(_refs(at.pop(place)))
            cut = place - offset
        out.append(_run(op, text[cut:]))
        offset += len(text)
    # Whatever is left (a quote at offset 0, an empty text) goes at the end of the block.
    for place in sorted(at):
        out.append(_refs(at[place]))
    return "".join(out)


def _refs(numbers: list[int]) -> str:
    return "".join(
        f'<sup class="note-ref"><a href="#note-{n}" id="ref-{n}">{n}</a></sup>' for n in numbers
    )


def _run(op: str, text: str) -> str:
    if not text:
        return ""
    if op == "insert":
        return f"<ins>{_text(text)}</ins>"
    if op == "delete":
        return f"<del>{_text(text)}</del>"
    return _text(text)


def text(value: str) -> str:
    """Escape document text for HTML as the redline does, bidi controls made visible."""
    return _text(value)


def _text(text: str) -> str:
    """Escape text for HTML and make bidi controls visible instead of active."""
    return show_bidi_controls(escape(text, quote=True))


def show_bidi_controls(escaped: str) -> str:
    """Replace each bidi control in escaped HTML text by a visible, inert mark."""
    if BIDI_RE.search(escaped) is None:
        return escaped
    return BIDI_RE.sub(
        lambda m: (
            f'<span class="bidi" title="{escape(code_point_name(m.group()))}">'
            f"U+{ord(m.group()):04X}</span>"
        ),
        escaped,
    )
