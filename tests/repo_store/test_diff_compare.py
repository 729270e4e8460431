"""Comparing two versions: one word in a reflowed paragraph, moves, renumbering, inserts."""

from __future__ import annotations

from typing import Any

from repo_store.diff import diff_texts
from repo_store.diff.text import words
from tests.support.diff_oracle import apply_ops

RU_V1 = """# Закон «Об экспортном контроле товаров двойного назначения»

Статья 1. Основные понятия

1. Товары двойного назначения — сырьё, материалы, оборудование, научно-техническая
информация и результаты интеллектуальной деятельности, которые могут быть
использованы при создании оружия массового уничтожения.

2. Конечный пользователь — лицо, которое использует товары по назначению.

Статья 2. Полномочия уполномоченного органа

1. Уполномоченный орган ведёт национальный контрольный список.

Статья 3. Лицензирование экспорта

1. Экспорт товаров двойного назначения осуществляется на основании лицензии,
выдаваемой уполномоченным органом.

2. Лицензия выдаётся в течение тридцати рабочих дней со дня подачи заявления.

Статья 4. Контроль транзита

1. Транзит товаров двойного назначения осуществляется с разрешения
уполномоченного органа.

Статья 5. Ответственность

1. Нарушение настоящего Закона влечёт ответственность, установленную законодательством.
"""

EN_V1 = """# Law on the Control of Exports of Dual-Use Goods

Article 1. Definitions

(1) "Dual-use goods" means items, including software and technology, which can be used
for both civil and military purposes.

Article 2. Export licensing

(1) An export of dual-use goods shall require a licence issued by the competent
authority.

(2) The competent authority shall decide on an application within thirty working days.

Article 3. Brokering

(1) Brokering services shall be registered with the competent authority.

Article 4. Penalties

(1) A breach of this Law shall be punished as provided by the Criminal Code.
"""


def entries(old: str, new: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = diff_texts(old, new).to_json()["blocks"]
    return blocks


def changed(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["op"] != "equal" or b["tokens"]]


def test_identical_versions_are_all_equal_without_tokens() -> None:
    result = diff_texts(RU_V1, RU_V1).to_json()
    assert {b["op"] for b in result["blocks"]} == {"equal"}
    assert all(b["tokens"] == [] for b in result["blocks"])
    assert result["warnings"] == []
    assert result["stats"]["equal"] == result["stats"]["new_blocks"]


def test_one_word_in_a_reflowed_paragraph_is_one_replacement() -> None:
    new = RU_V1.replace(
        """1. Товары двойного назначения — сырьё, материалы, оборудование, научно-техническая
информация и результаты интеллектуальной деятельности, которые могут быть
использованы при создании оружия массового уничтожения.""",
        """1. Товары двойного назначения — сырьё,
материалы, оборудование, научно-техническая информация и результаты
интеллектуальной деятельности, которые могут быть использованы при
разработке оружия массового уничтожения.""",
    )
    blocks = changed(entries(RU_V1, new))
    assert len(blocks) == 1
    block = blocks[0]
    assert (block["op"], block["old_id"], block["new_id"]) == (
        "replace",
        "art_1__para_1",
        "art_1__para_1",
    )
    edits = [t for t in block["tokens"] if t["op"] != "equal"]
    assert [(t["op"], t["text"].strip()) for t in edits] == [
        ("delete", "создании"),
        ("insert", "разработке"),
    ]


def test_one_word_in_english() -> None:
    new = EN_V1.replace("thirty working days", "forty working days")
    blocks = changed(entries(EN_V1, new))
    assert len(blocks) == 1
    edits = [(t["op"], t["text"].strip()) for t in blocks[0]["tokens"] if t["op"] != "equal"]
    assert edits == [("delete", "thirty"), ("insert", "forty")]


def test_whitespace_only_change_is_no_change() -> None:
    new = RU_V1.replace(" ", "  ").replace("\n\n", "\n \n\n").replace("\n", "\r\n")
    blocks = entries(RU_V1, new)
    assert changed(blocks) == []
    assert len(blocks) == len(entries(RU_V1, RU_V1))


def test_punctuation_is_a_token_of_its_own() -> None:
    new = EN_V1.replace("civil and military purposes.", "civil and military purposes;")
    tokens = changed(entries(EN_V1, new))[0]["tokens"]
    assert [(t["op"], t["text"]) for t in tokens if t["op"] != "equal"] == [
        ("delete", "."),
        ("insert", ";"),
    ]


def _move_article_3_to_the_end(text: str) -> str:
    start = text.index("Статья 3.")
    end = text.index("Статья 4.")
    article = text[start:end]
    return text[:start] + text[end:] + "\n" + article


def test_moved_article_is_a_move_not_delete_and_insert() -> None:
    new = _move_article_3_to_the_end(RU_V1)
    blocks = entries(RU_V1, new)
    assert {b["op"] for b in blocks} <= {"equal", "move"}
    moved = [b for b in blocks if b["op"] == "move"]
    assert {b["old_id"] for b in moved} == {"art_3", "art_3__para_1", "art_3__para_2"}
    assert all(b["old_id"] == b["new_id"] and not b["renumbered"] for b in moved)
    # Where each came from, in the document's words, never an internal id.
    assert {b["old_place"] for b in moved} == {"Статья 3", "Статья 3, 1", "Статья 3, 2"}
    assert [b["new_id"] for b in blocks][-3:] == ["art_3", "art_3__para_1", "art_3__para_2"]


def test_moved_and_reworded_article_carries_word_tokens() -> None:
    new = _move_article_3_to_the_end(RU_V1).replace("тридцати", "двадцати")
    blocks = entries(RU_V1, new)
    moved = {b["old_id"]: b for b in blocks if b["op"] == "move"}
    assert set(moved) == {"art_3", "art_3__para_1", "art_3__para_2"}
    edits = [
        (t["op"], t["text"].strip()) for t in moved["art_3__para_2"]["tokens"] if t["op"] != "equal"
    ]
    assert edits == [("delete", "тридцати"), ("insert", "двадцати")]


def test_renumbered_articles_are_the_same_provisions() -> None:
    new = RU_V1
    for number in (5, 4, 3):
        new = new.replace(f"Статья {number}.", f"Статья {number + 1}.")
    blocks = entries(RU_V1, new)
    assert {b["op"] for b in blocks} == {"equal"}
    renumbered = {b["old_id"]: b["new_id"] for b in blocks if b["renumbered"]}
    assert renumbered["art_3"] == "art_4"
    assert renumbered["art_3__para_2"] == "art_4__para_2"
    assert renumbered["art_5"] == "art_6"
    places = {b["old_id"]: b["old_place"] for b in blocks}
    assert places["art_3"] == "Статья 3"
    assert places["art_3__para_2"] == "Статья 3, 2"
    assert places["art_1"] is None  # neither moved nor renumbered
    article = next(b for b in blocks if b["old_id"] == "art_5")
    assert [(t["op"], t["text"].strip()) for t in article["tokens"] if t["op"] != "equal"] == [
        ("delete", "5"),
        ("insert", "6"),
    ]


def test_article_inserted_in_the_middle_is_one_insert_and_the_rest_equal() -> None:
    inserted = """Статья 3. Разовые лицензии

1. Разовая лицензия выдаётся на одну поставку товаров.

"""
    new = RU_V1.replace("Статья 3. Лицензирование", inserted + "Статья 3. Лицензирование")
    for number in (5, 4, 3):
        new = new.replace(
            f"Статья {number}. {_TITLES[number]}", f"Статья {number + 1}. {_TITLES[number]}"
        )
    blocks = entries(RU_V1, new)
    inserts = [b for b in blocks if b["op"] == "insert"]
    assert [b["new_id"] for b in inserts] == ["art_3", "art_3__para_1"]
    first = blocks.index(inserts[0])
    assert blocks[first + 1] is inserts[1]  # one inserted provision, in one place
    assert {b["op"] for b in blocks if b["op"] != "insert"} == {"equal"}
    assert next(b for b in blocks if b["old_id"] == "art_3")["new_id"] == "art_4"
    assert apply_ops(diff_texts(RU_V1, new), RU_V1) == words(new)


_TITLES = {3: "Лицензирование", 4: "Контроль", 5: "Ответственность"}


def test_deleted_block_stays_where_it_was() -> None:
    new = EN_V1.replace(
        "(2) The competent authority shall decide on an application within thirty working "
        "days.\n\n",
        "",
    )
    blocks = entries(EN_V1, new)
    ops = [(b["op"], b["old_id"]) for b in blocks]
    at = ops.index(("delete", "art_2__para_2"))
    assert ops[at - 1] == ("equal", "art_2__para_1")
    assert ops[at + 1] == ("equal", "art_3")


def test_rewritten_paragraph_is_replaced_as_a_whole() -> None:
    new = EN_V1.replace(
        "(1) Brokering services shall be registered with the competent authority.",
        "(1) Intermediaries must notify every transaction before it starts.",
    )
    block = changed(entries(EN_V1, new))[0]
    assert (block["op"], block["old_id"], block["new_id"]) == (
        "replace",
        "art_3__para_1",
        "art_3__para_1",
    )


def test_bidi_controls_are_reported_with_side_block_and_code_point() -> None:
    new = EN_V1.replace("competent\nauthority.", "competent\nauthority\u202e.")
    old = EN_V1.replace("Brokering services", "Brokering\u2066 services")
    warnings = diff_texts(old, new).to_json()["warnings"]
    assert {(w["side"], w["block"], w["code_point"]) for w in warnings} == {
        ("old", "art_3__para_1", "U+2066"),
        ("new", "art_2__para_1", "U+202E"),
    }
    assert all(w["type"] == "bidi_control" for w in warnings)


def test_json_shape() -> None:
    result = diff_texts(EN_V1, EN_V1.replace("thirty", "forty")).to_json()
    assert set(result) == {"blocks", "warnings", "stats"}
    for block in result["blocks"]:
        assert set(block) == {
            "op",
            "old_id",
            "new_id",
            "kind",
            "renumbered",
            "text",
            "tokens",
            "old_place",
        }
        for token in block["tokens"]:
            assert set(token) == {"op", "text"}
    assert result["stats"]["replace"] == 1
    assert result["stats"]["words_inserted"] == 1
