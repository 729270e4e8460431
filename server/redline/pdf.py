"""The redline as a printable PDF: the HTML redline laid out by WeasyPrint on A4, with running
headers, page numbers and the review's comments as numbered notes (issue: redlines in print).

The page is the one render.py writes, with a print stylesheet instead of the screen one, so the
screen and the paper show the same marks. Every piece of text is escaped by render.py's rules;
nothing is fetched (the URL fetcher refuses every address) and only installed fonts are used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from repo_store.diff.textdiff import TextDiff
from server.redline.render import render_html, text
from server.redline.wording import words_for

# What a PDF may cost, in characters of document text laid out (each block's text, and its
# deleted words too). WeasyPrint lays out 25 000 to 40 000 characters a second, with a peak of
# about 400 MB for the 1 MB law's redline (560 000 characters, 14-21 s; docs/formats.md,
# "Redline as PDF"): the default lets that law through and refuses what is longer.
DEFAULT_MAX_COST = 600_000

# Each note and reply is short next to a law, but a thread may be long: it counts as its text.
_NOTE_OVERHEAD = 200


class RedlineTooLong(Exception):
    """The comparison is too long to lay out as a PDF within the bound; the API answers 422."""

    def __init__(self, cost: int, limit: int) -> None:
        super().__init__(f"the redline would lay out {cost} characters, more than {limit}")
        self.cost = cost
        self.limit = limit


class FetchRefused(ValueError):
    """A PDF of a redline never reads anything from outside, not even a local file."""


@dataclass(frozen=True)
class NoteReply:
    """A reply in a comment thread, as printed under its note."""

    author: str
    date: str
    body: str


@dataclass(frozen=True)
class NoteThread:
    """A comment thread printed as note ``number``, marked at its quoted words in ``block``."""

    number: int
    id: str
    block: str
    quote: str
    author: str
    date: str
    body: str
    replies: tuple[NoteReply, ...] = ()


PRINT_STYLE = """
@page { size: A4; margin: 22mm 18mm 20mm 20mm;
        @top-left { content: string(doc-title); font: 8pt "DejaVu Sans"; color: #444;
                    width: 60%; }
        @top-right { content: string(doc-versions); font: 8pt "DejaVu Sans"; color: #444; }
        @bottom-center { content: counter(page) " / " counter(pages);
                         font: 8pt "DejaVu Sans"; color: #444; } }
html { font: 10pt/1.45 "DejaVu Serif", serif; color: #000; }
header h1 { font: bold 14pt/1.3 "DejaVu Sans", sans-serif; margin: 0 0 2mm;
            string-set: doc-title content(); }
.versions { string-set: doc-versions content(); }
.versions, .summary, .part { font: 9pt "DejaVu Sans", sans-serif; color: #333; margin: 1mm 0; }
.warnings { border: 1pt solid #b00020; padding: 2mm 4mm; margin: 4mm 0; }
.warnings h2 { font: bold 10pt "DejaVu Sans", sans-serif; margin: 0; color: #b00020; }
main { margin-top: 5mm; }
.block { margin: 2mm 0; padding: 0 0 0 3mm; border-left: 2pt solid transparent;
         white-space: pre-wrap; orphans: 2; widows: 2; }
.kind-article { font-weight: bold; margin-top: 4mm; page-break-after: avoid; }
h2.block, h3.block, h4.block, h5.block, h6.block { font-family: "DejaVu Sans", sans-serif;
         font-size: 11pt; margin-top: 5mm; page-break-after: avoid; }
h2.block { font-size: 13pt; }
h3.block { font-size: 12pt; }
.op-insert { border-left-color: #1a7f37; }
.op-delete { border-left-color: #b00020; }
.op-replace { border-left-color: #9a6700; }
.op-move { border-left: 2pt double #0550ae; }
.renumbered { border-left-style: dashed; }
.note { display: block; font: italic 8pt "DejaVu Sans", sans-serif; color: #0550ae; }
ins { color: #0b5d1e; text-decoration: underline; }
del { color: #a0001c; text-decoration: line-through; }
.bidi { font: bold 7pt "DejaVu Sans Mono", monospace; color: #b00020;
        border: .5pt solid #b00020; }
sup.note-ref { font: bold 7pt "DejaVu Sans", sans-serif; line-height: 0; color: #0550ae; }
sup.note-ref a { color: inherit; text-decoration: none; }
.notes { page-break-before: always; }
.notes h2 { font: bold 12pt "DejaVu Sans", sans-serif; }
.notes ol { padding-left: 8mm; }
.notes li { margin: 0 0 3mm; page-break-inside: avoid; }
.notes .meta { font: 8pt "DejaVu Sans", sans-serif; color: #333; margin: 0; }
.notes .quote { font-style: italic; margin: .5mm 0; }
.notes .body { margin: .5mm 0; white-space: pre-wrap; }
.notes .replies { list-style: none; padding-left: 5mm; border-left: .5pt solid #999; }
.notes .unplaced { font: italic 8pt "DejaVu Sans", sans-serif; color: #9a6700; }
"""


def redline_cost(diff: TextDiff, notes: Sequence[NoteThread] = ()) -> int:
    """How many characters of text a PDF of this comparison lays out (the bound's measure)."""
    cost = 0
    for entry in diff.blocks:
        if entry.tokens:
            cost += sum(len(run.text) for run in entry.tokens)
        else:
            cost += len(entry.shown.text)
    for note in notes:
        cost += _NOTE_OVERHEAD + len(note.quote) + len(note.body)
        cost += sum(_NOTE_OVERHEAD + len(reply.body) for reply in note.replies)
    return cost


def render_redline_pdf(
    diff: TextDiff,
    *,
    title: str,
    old_label: str,
    new_label: str,
    language: str | None,
    notes: Sequence[NoteThread] = (),
    max_cost: int = DEFAULT_MAX_COST,
    ui: str = "en",
) -> bytes:
    """Lay out the comparison as an A4 PDF with its notes; RedlineTooLong before any work if
    it would cost more than ``max_cost`` characters.

    ``language`` is the document's (for hyphenation and the ``lang`` of its text), ``ui`` the
    reader's, for the redline's own words ("inserted", "Notes"; English or Russian).
    """
    cost = redline_cost(diff, notes)
    if cost > max_cost:
        raise RedlineTooLong(cost, max_cost)
    placed = {entry.new_id for entry in diff.blocks if entry.new_id is not None}
    marks: dict[str, list[tuple[int, str]]] = {}
    for note in notes:
        if note.block in placed:
            marks.setdefault(note.block, []).append((note.number, note.quote))
    page = render_html(
        diff,
        title=title,
        old_label=old_label,
        new_label=new_label,
        lang=language or "und",
        style=PRINT_STYLE,
        notes=marks,
        appendix=_notes_section(notes, placed, words_for(ui)),
        ui=ui,
    )
    document = HTML(string=page, url_fetcher=RefusingFetcher(), base_url=None)
    pdf = document.write_pdf()
    if pdf is None:  # write_pdf returns bytes when given no target
        raise RuntimeError("WeasyPrint wrote no PDF")
    return bytes(pdf)


class RefusingFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint has no types
    """WeasyPrint's URL fetcher for a redline: nothing from outside, whatever the address."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=frozenset(), allow_redirects=False)

    def fetch(self, url: str, headers: object = None) -> NoReturn:
        raise FetchRefused(f"a redline fetches nothing ({url[:80]!r})")


def _notes_section(notes: Sequence[NoteThread], placed: set[str], words: Mapping[str, str]) -> str:
    if not notes:
        return ""
    parts = [f'<section class="notes">\n<h2>{words["notes"]}</h2>\n<ol>\n']
    for note in sorted(notes, key=lambda n: n.number):
        parts.append(f'<li id="note-{note.number}" value="{note.number}">')
        parts.append(f'<p class="meta">{text(note.author)} · {text(note.date)}</p>')
        if note.block not in placed:
            parts.append(f'<p class="unplaced">{words["unplaced"]}</p>')
        if note.quote:
            parts.append(f'<p class="quote">“{text(note.quote)}”</p>')
        parts.append(f'<p class="body">{text(note.body)}</p>')
        if note.replies:
            parts.append('<ul class="replies">')
            for reply in note.replies:
                parts.append(
                    f'<li><p class="meta">{text(reply.author)} · {text(reply.date)}</p>'
                    f'<p class="body">{text(reply.body)}</p></li>'
                )
            parts.append("</ul>")
        parts.append("</li>\n")
    parts.append("</ol>\n</section>\n")
    return "".join(parts)
