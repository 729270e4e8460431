"""Parsing legal text into blocks: markers in English, Russian and German, ids, normalisation."""

from __future__ import annotations

import pytest

from repo_store.diff import normalise_text, parse_blocks

RU_LAW = """# Закон «Об экспортном контроле»

## Глава 1. Общие положения

Статья 5. Лицензирование экспорта
1. Экспорт товаров двойного назначения
осуществляется на основании лицензии.
2) Лицензия выдаётся:
а) уполномоченным органом;
б) в порядке, установленном статьёй 7.

### Статья 5-1. Разовые лицензии

Разовая лицензия выдаётся на одну поставку.

Вторая часть без номера.
"""

EN_LAW = """## Article 5. Export licensing

(1) An export of dual-use goods requires a licence
issued by the competent authority.

(2) The licence shall state:

(a) the end-user;

(b) the quantity.

- first note
- second note

Art. 5a Transit
(1) Transit requires a permit.
Section 6 Brokering
1.1 Brokering services require registration.
"""

DE_LAW = """§ 5 Genehmigungspflicht
(1) Die Ausfuhr von Gütern mit doppeltem Verwendungszweck bedarf der Genehmigung.
(2) Die Genehmigung erteilt das Bundesamt.
"""


def ids(text: str) -> list[str]:
    return [block.id for block in parse_blocks(text)]


def test_russian_articles_paragraphs_and_items() -> None:
    blocks = parse_blocks(RU_LAW)
    assert [b.id for b in blocks] == [
        "h1",
        "ch_1",
        "art_5",
        "art_5__para_1",
        "art_5__para_2",
        "art_5__para_2__item_a",
        "art_5__para_2__item_b",
        "art_5-1",
        "art_5-1__p1",
        "art_5-1__p2",
    ]
    kinds = {b.id: b.kind for b in blocks}
    assert kinds["ch_1"] == "heading"
    assert kinds["art_5"] == "article"
    assert kinds["art_5__para_1"] == "paragraph"
    assert kinds["art_5__para_2__item_b"] == "item"
    assert kinds["art_5-1__p1"] == "text"
    article = blocks[2]
    assert (article.number, article.label, article.heading) == (
        "5",
        "Статья 5",
        "Лицензирование экспорта",
    )
    item = blocks[6]
    assert (item.number, item.label, item.parent) == ("б", "б)", "art_5__para_2")
    assert item.provision == "Статья 5"


def test_hard_wraps_are_folded_into_one_paragraph() -> None:
    paragraph = parse_blocks(RU_LAW)[3]
    assert paragraph.text == (
        "1. Экспорт товаров двойного назначения осуществляется на основании лицензии."
    )


def test_english_and_german_forms() -> None:
    assert ids(EN_LAW) == [
        "art_5",
        "art_5__para_1",
        "art_5__para_2",
        "art_5__para_2__item_a",
        "art_5__para_2__item_b",
        "art_5__para_2__li1",
        "art_5__para_2__li2",
        "art_5a",
        "art_5a__para_1",
        "sec_6",
        "sec_6__para_1_1",
    ]
    assert ids(DE_LAW) == ["art_5", "art_5__para_1", "art_5__para_2"]
    assert parse_blocks(DE_LAW)[0].heading == "Genehmigungspflicht"
    assert parse_blocks(EN_LAW)[7].label == "Art. 5a"


def test_reference_at_line_start_is_not_a_heading() -> None:
    text = "(1) The rules of\nArticle 5 of this Law apply to transit.\n"
    assert ids(text) == ["para_1"]


def test_ids_are_ascii_and_unique() -> None:
    text = "Статья 3. Первая\n\nСтатья 3. Повтор\n\n1. Один.\n\n1. Снова один.\n\nж) пункт\n"
    found = ids(text)
    assert found == [
        "art_3",
        "art_3~2",
        "art_3~2__para_1",
        "art_3~2__para_1~2",
        "art_3~2__para_1~2__item_zh",
    ]
    assert all(block_id.isascii() for block_id in found)


def test_positional_ids_for_unnumbered_paragraphs() -> None:
    text = "Preamble one.\n\nPreamble two.\n\nArticle 1. Scope\n\nFirst.\n\nSecond.\n"
    assert ids(text) == ["p1", "p2", "art_1", "art_1__p1", "art_1__p2"]


@pytest.mark.parametrize("text", ["", "\n\n\n", "   \n \t\n"])
def test_empty_documents_have_no_blocks(text: str) -> None:
    assert parse_blocks(text) == []


def test_normalise_text_is_nfc_with_lf() -> None:
    assert normalise_text("e\u0301\r\nx\ry") == "\u00e9\nx\ny"
    decomposed = parse_blocks("Cafe\u0301  au\u00a0lait\r\n  continues")[0]
    assert decomposed.text == "Caf\u00e9 au lait continues"
