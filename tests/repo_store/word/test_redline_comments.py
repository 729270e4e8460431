"""Review comments in a redline .docx: on their exact quoted words, with replies, or reported."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from repo_store.diff import diff_texts
from repo_store.diff.blocks import parse_blocks
from repo_store.word.redline import WordComment, redline_to_docx
from tests.repo_store.word.docx_tools import W, opens_in_libreoffice, part, part_names
from tests.repo_store.word.redline_cases import PAIRS

WHEN = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
W15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"


def _quoted_comments(text: str, count: int, seed: int) -> list[WordComment]:
    """Comments on a few consecutive words of random paragraphs, with their offsets."""
    rng = random.Random(seed)
    blocks = [b for b in parse_blocks(text) if b.kind in ("paragraph", "item", "text")]
    comments = []
    for n, block in enumerate(rng.sample(blocks, count)):
        spaces = [0, *(i + 1 for i, c in enumerate(block.text) if c == " ")]
        first = rng.randrange(len(spaces) - 1)
        last = min(first + rng.randint(1, 3), len(spaces) - 1)
        start, end = spaces[first], spaces[last] - 1
        comments.append(
            WordComment(
                id=f"c{n}",
                author="Эксперт KAZ",
                date=WHEN,
                body=f"Замечание {n}:\nуточнить формулировку",
                quote=block.text[start:end],
                block_id=block.id,
                start=start,
                end=end,
                replies=(("Эксперт BLR", WHEN, "Согласны"),) if n % 5 == 0 else (),
            )
        )
    return comments


def _ranges(document: etree._Element) -> dict[str, dict[str, str]]:
    """The text each comment range holds on each side (new: accepted, old: rejected)."""
    active: set[str] = set()
    texts: dict[str, dict[str, str]] = {}
    for element in document.iter():
        if element.tag == f"{W}commentRangeStart":
            active.add(element.get(f"{W}id", ""))
        elif element.tag == f"{W}commentRangeEnd":
            active.discard(element.get(f"{W}id", ""))
        elif element.tag in (f"{W}t", f"{W}delText") and active:
            wrapper = etree.QName(element.getparent().getparent()).localname
            sides = {"ins": ("new",), "moveTo": ("new",), "del": ("old",), "moveFrom": ("old",)}
            for side in sides.get(wrapper, ("new", "old")):
                for number in active:
                    texts.setdefault(number, {"new": "", "old": ""})[side] += element.text or ""
    return texts


def test_comments_sit_exactly_on_their_quoted_words() -> None:
    old, new = PAIRS["restructured-law"]
    comments = _quoted_comments(new, 20, seed=3)
    result = redline_to_docx(
        diff_texts(old, new), author="KGZ", date=WHEN, comments=comments, old_text=old
    )
    assert result.placed + len(result.not_placed) == len(comments)
    assert result.placed >= 0.95 * len(comments)
    document = part(result.data, "word/document.xml")
    held = _ranges(document)
    references = {e.get(f"{W}id") for e in document.iter(f"{W}commentReference")}
    written = part(result.data, "word/comments.xml")
    numbers = {c.get(f"{W}id"): c for c in written.iter(f"{W}comment")}
    assert references == set(numbers) == set(held)
    bodies = {"".join(c.itertext()): n for n, c in numbers.items()}
    for n, comment in enumerate(comments):
        if comment.id in result.not_placed:
            continue
        number = bodies[f"Замечание {n}:уточнить формулировку"]
        assert held[number]["new"] == comment.quote
        assert numbers[number].get(f"{W}author") == "Эксперт KAZ"
        assert numbers[number].get(f"{W}date") == "2026-12-04T10:00:00Z"


def test_replies_are_linked_to_their_comment() -> None:
    old, new = PAIRS["restructured-law"]
    comments = _quoted_comments(new, 10, seed=5)
    result = redline_to_docx(
        diff_texts(old, new), author="KGZ", date=WHEN, comments=comments, old_text=old
    )
    assert result.not_placed == ()
    written = part(result.data, "word/comments.xml")
    extended = part(result.data, "word/commentsExtended.xml")
    para_of = {
        "".join(c.itertext()): c.findall(f"{W}p")[-1].get(f"{W14}paraId")
        for c in written.iter(f"{W}comment")
    }
    links = {e.get(f"{W15}paraId"): e.get(f"{W15}paraIdParent") for e in extended}
    replies = [c for c in comments if c.replies]
    assert len(replies) == 2
    assert sum(parent is not None for parent in links.values()) == 2
    assert links[para_of["Согласны"]] in {
        para_of[f"Замечание {n}:уточнить формулировку"] for n in (0, 5)
    }
    assert "word/commentsExtended.xml" in part_names(result.data)
    types = etree.tostring(part(result.data, "[Content_Types].xml")).decode()
    assert "comments+xml" in types
    assert "commentsExtended+xml" in types


def test_comment_whose_quote_is_gone_is_reported_not_misplaced() -> None:
    old, new = PAIRS["english-moves"]
    new_blocks = {b.text: b for b in parse_blocks(new)}
    old_blocks = {b.text: b for b in parse_blocks(old)}
    licence = new_blocks["A licence is valid for one year & may be renewed <once>."]
    transit = old_blocks["(2) It does not apply to transit."]
    comments = [
        # The words were deleted from this paragraph: the newer text does not have them.
        WordComment("gone", "A", WHEN, "too long?", "two years", licence.id),
        # Wrong offsets, but the quote occurs once: found by the quote.
        WordComment("moved-offsets", "A", WHEN, "why?", "one year", licence.id, 0, 8),
        # The quote occurs twice in the paragraph: which one is meant cannot be said.
        WordComment("ambiguous", "A", WHEN, "?", "e", licence.id),
        # A block the newer version does not have.
        WordComment("no-block", "A", WHEN, "?", "transit", "art_1__para_2"),
        # On the older version's deleted paragraph: placed on the deleted words.
        WordComment("old-side", "B", WHEN, "keep it", "transit", transit.id, side="old"),
        WordComment("empty", "A", WHEN, "?", "", licence.id),
    ]
    result = redline_to_docx(
        diff_texts(old, new), author="TJK", date=WHEN, comments=comments, old_text=old
    )
    assert set(result.not_placed) == {"gone", "ambiguous", "no-block", "empty"}
    assert result.placed == 2
    held = _ranges(part(result.data, "word/document.xml"))
    assert sorted((h["new"], h["old"]) for h in held.values()) == [
        ("", "transit"),
        ("one year", ""),
    ]


def test_redline_with_comments_opens_in_libreoffice(tmp_path: Path) -> None:
    old, new = PAIRS["restructured-law"]
    result = redline_to_docx(
        diff_texts(old, new),
        author="KGZ",
        date=WHEN,
        comments=_quoted_comments(new, 20, seed=3),
        old_text=old,
    )
    opens_in_libreoffice(result.data, tmp_path)


def test_comments_on_table_rows_sit_in_their_cell() -> None:
    old, new = PAIRS["control-list-rows"]
    rows = {b.text: b for b in parse_blocks(new)}
    old_rows = {b.text: b for b in parse_blocks(old)}
    edited = rows["| 1.1 | Природный и обеднённый уран | 2844 10 |"]
    added = rows["| 1.5 | Сильфоны | 8307 90 |"]
    kept = rows["| 1.3 | Пульты управления | 8537 10 |"]
    removed = old_rows["| 1.2 | Центрифуги газовые | 8401 20 |"]
    comments = [
        WordComment("edited", "A", WHEN, "?", "обеднённый уран", edited.id),
        WordComment("added", "A", WHEN, "?", "Сильфоны", added.id),
        WordComment("kept", "A", WHEN, "?", "8537 10", kept.id, 36, 43),
        WordComment("removed", "A", WHEN, "?", "газовые", removed.id, side="old"),
        WordComment("across", "A", WHEN, "?", "1.5 | Сильфоны", added.id),
    ]
    result = redline_to_docx(
        diff_texts(old, new), author="KGZ", date=WHEN, comments=comments, old_text=old
    )
    assert result.not_placed == ("across",)
    held = _ranges(part(result.data, "word/document.xml"))
    assert sorted((h["new"], h["old"]) for h in held.values()) == [
        ("", "газовые"),
        ("8537 10", "8537 10"),
        ("Сильфоны", ""),
        ("обеднённый уран", " уран"),
    ]
