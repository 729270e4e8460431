"""The revision marks of a redline .docx: ids, authors, dates, paragraph marks, moves, rows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from repo_store.diff import diff_texts
from repo_store.word.redline import redline_to_docx
from repo_store.word.writer import text_to_docx
from tests.repo_store.word.docx_tools import NS, W, part, resolved_blocks
from tests.repo_store.word.redline_cases import PAIRS

WHEN = datetime(2026, 12, 4, 12, 0, 7, 250_000, tzinfo=timezone(timedelta(hours=3)))
REVISIONS = ("ins", "del", "moveFrom", "moveTo")


def _redline(name: str) -> bytes:
    old, new = PAIRS[name]
    return redline_to_docx(diff_texts(old, new), author="KGZ", date=WHEN, old_text=old).data


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_word_accept_and_reject_give_each_version_block_for_block(name: str) -> None:
    """Paragraph marks and row marks are right: the versions come back with their styles."""
    old, new = PAIRS[name]
    data = _redline(name)
    assert resolved_blocks(data, "accept") == resolved_blocks(text_to_docx(new), "accept")
    assert resolved_blocks(data, "reject") == resolved_blocks(text_to_docx(old), "accept")


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_every_revision_has_a_unique_id_the_author_and_the_date(name: str) -> None:
    document = part(_redline(name), "word/document.xml")
    marks = [
        element
        for tag in (*REVISIONS, "moveFromRangeStart", "moveToRangeStart")
        for element in document.iter(f"{W}{tag}")
    ]
    assert marks
    ids = Counter(element.get(f"{W}id") for element in marks)
    assert all(count == 1 for count in ids.values())
    assert {element.get(f"{W}author") for element in marks} == {"KGZ"}
    assert {element.get(f"{W}date") for element in marks} == {"2026-12-04T09:00:07Z"}


def test_moves_are_named_ranges_on_both_sides() -> None:
    document = part(_redline("restructured-law"), "word/document.xml")
    starts = {
        side: Counter(e.get(f"{W}name") for e in document.iter(f"{W}{side}RangeStart"))
        for side in ("moveFrom", "moveTo")
    }
    assert len(starts["moveFrom"]) >= 2
    assert starts["moveFrom"] == starts["moveTo"]
    assert all(count == 1 for count in starts["moveFrom"].values())
    for side in ("moveFrom", "moveTo"):
        opened = {e.get(f"{W}id") for e in document.iter(f"{W}{side}RangeStart")}
        closed = {e.get(f"{W}id") for e in document.iter(f"{W}{side}RangeEnd")}
        assert opened == closed
        # The moved paragraph's mark moves with it.
        assert document.findall(f".//w:pPr/w:rPr/w:{side}", NS)


def test_whole_paragraphs_mark_their_paragraph_mark() -> None:
    document = part(_redline("english-moves"), "word/document.xml")
    inserted = document.xpath(".//w:p[w:pPr/w:rPr/w:ins]", namespaces=NS)
    deleted = document.xpath(".//w:p[w:pPr/w:rPr/w:del]", namespaces=NS)
    assert any("Entry into force" in "".join(p.itertext()) for p in inserted)
    assert any("It does not apply to transit." in "".join(p.itertext()) for p in deleted)
    for paragraph in deleted:
        assert not paragraph.findall(".//w:t", NS)  # deleted text is w:delText only


def test_table_rows_inserted_and_deleted_are_marked_as_rows() -> None:
    document = part(_redline("control-list-table"), "word/document.xml")
    inserted = document.xpath(".//w:tr[w:trPr/w:ins]", namespaces=NS)
    deleted = document.xpath(".//w:tr[w:trPr/w:del]", namespaces=NS)
    assert ["".join(row.itertext()) for row in inserted] == [
        "1.4Роторы центрифуг8401 40",
        "1.5Сильфоны8307 90",
    ]
    assert ["".join(row.itertext()) for row in deleted] == ["1.2Центрифуги газовые8401 20"]


def test_same_comparison_gives_same_bytes() -> None:
    assert _redline("restructured-law") == _redline("restructured-law")


def test_moves_without_the_older_text_are_refused() -> None:
    old, new = PAIRS["english-moves"]
    with pytest.raises(ValueError, match="older text"):
        redline_to_docx(diff_texts(old, new), author="A", date=datetime.now(UTC))


def test_naive_date_is_taken_as_utc_and_author_is_escaped() -> None:
    old, new = PAIRS["kgz-control-list"]
    data = redline_to_docx(
        diff_texts(old, new), author='A "&" <B>', date=datetime(2026, 1, 2, 3, 4, 5)
    ).data
    marks = list(part(data, "word/document.xml").iter(f"{W}ins"))
    assert marks
    assert {m.get(f"{W}author") for m in marks} == {'A "&" <B>'}
    assert {m.get(f"{W}date") for m in marks} == {"2026-01-02T03:04:05Z"}


def test_a_moved_and_edited_paragraph_shows_its_word_changes_on_each_side() -> None:
    document = part(_redline("english-moves"), "word/document.xml")
    moved_to = document.xpath(".//w:p[w:moveToRangeStart][contains(., 'licence')]", namespaces=NS)
    moved_from = document.xpath(
        ".//w:p[w:moveFromRangeStart][contains(., 'licence')]", namespaces=NS
    )
    assert len(moved_to) == len(moved_from) == 1
    inserted = "".join(moved_to[0].xpath("w:ins//w:t/text()", namespaces=NS))
    deleted = "".join(moved_from[0].xpath("w:del//w:delText/text()", namespaces=NS))
    assert "one year & may be renewed <once>" in inserted
    assert "two years" in deleted
    assert not moved_to[0].xpath(".//w:del", namespaces=NS)
    assert not moved_from[0].xpath(".//w:ins", namespaces=NS)
