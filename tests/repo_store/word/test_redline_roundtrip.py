"""A redline .docx accepted gives the newer version, rejected the older, as pandoc reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from repo_store.diff import diff_texts
from repo_store.word.redline import redline_to_docx
from repo_store.word.writer import text_to_docx
from tests.repo_store.word.docx_tools import opens_in_libreoffice, pandoc_plain, pandoc_rows
from tests.repo_store.word.redline_cases import PAIRS
from tests.support.lawgen import law_versions

WHEN = datetime(2026, 12, 4, 9, 30, 15, tzinfo=UTC)


def _redline(old: str, new: str) -> bytes:
    return redline_to_docx(
        diff_texts(old, new), author="Республика Беларусь", date=WHEN, old_text=old
    ).data


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_accept_all_gives_newer_and_reject_all_older(name: str) -> None:
    old, new = PAIRS[name]
    data = _redline(old, new)
    if "|" in old + new:
        # pandoc keeps a removed row as a row of empty cells (docx_tools.pandoc_rows).
        assert pandoc_rows(data, "accept") == pandoc_rows(text_to_docx(new), "accept")
        assert pandoc_rows(data, "reject") == pandoc_rows(text_to_docx(old), "accept")
        return
    assert pandoc_plain(data, "accept") == pandoc_plain(text_to_docx(new))
    assert pandoc_plain(data, "reject") == pandoc_plain(text_to_docx(old))


def test_table_pair_paragraphs_outside_the_table_round_trip() -> None:
    old, new = PAIRS["control-list-table"]
    data = _redline(old, new)
    accepted = pandoc_plain(data, "accept")
    rejected = pandoc_plain(data, "reject")
    assert "2.1. Токсичные химикаты и прекурсоры." in accepted
    assert "2.1. Токсичные химикаты." in rejected
    assert "Сильфоны" in accepted
    assert "Сильфоны" not in rejected
    assert "Центрифуги газовые" in rejected
    assert "Центрифуги газовые" not in accepted


def test_forty_edit_law_round_trips() -> None:
    old, new = law_versions(200_000, edits=40)
    data = _redline(old, new)
    assert pandoc_plain(data, "accept") == pandoc_plain(text_to_docx(new))
    assert pandoc_plain(data, "reject") == pandoc_plain(text_to_docx(old))


@pytest.mark.parametrize("name", ["restructured-law", "control-list-table", "english-moves"])
def test_redline_opens_in_libreoffice(name: str, tmp_path: Path) -> None:
    old, new = PAIRS[name]
    opens_in_libreoffice(_redline(old, new), tmp_path)
