"""Anchoring comments to quotes and carrying them onto later versions (DESIGN.md §7)."""

from __future__ import annotations

import pytest

from repo_store.anchor import CONTEXT, Anchor, locate_quote, reanchor

V1 = """Статья 1. Основные понятия

1. Товары двойного назначения — товары, которые могут быть использованы
для создания оружия массового уничтожения.

Статья 2. Лицензирование экспорта

1. Экспорт товаров двойного назначения осуществляется на основании лицензии.
Лицензия выдаётся уполномоченным органом в течение тридцати рабочих дней.

2. Срок действия лицензии не может превышать одного года.

Статья 3. Контроль транзита

Транзит товаров осуществляется с разрешения уполномоченного органа. Разрешение
на транзит выдаётся на каждую поставку.
"""

# v3: article 1 untouched but renumbered, a sentence moved to a new article, one sentence
# reworded, one paragraph deleted.
V3 = """Статья 1. Сфера применения

Настоящий Закон применяется к экспорту товаров.

Статья 2. Основные понятия

1. Товары двойного назначения — товары, которые могут быть использованы
для создания оружия массового уничтожения.

Статья 3. Лицензирование экспорта

1. Экспорт товаров двойного назначения осуществляется на основании лицензии.
Лицензия выдаётся уполномоченным органом в течение сорока пяти рабочих дней.

Статья 4. Контроль транзита

Транзит товаров осуществляется с разрешения уполномоченного органа.

Статья 5. Поставки

Разрешение на транзит выдаётся на каждую поставку.
"""


def anchor(text: str, quote: str, **hints: str) -> Anchor:
    found = locate_quote(text, quote, **hints)
    assert found is not None
    return found


def test_locate_quote_stores_block_offsets_and_context() -> None:
    found = anchor(V1, "в течение тридцати\nрабочих   дней")
    assert found.block == "art_2__para_1"
    assert found.quote == "в течение тридцати рабочих дней"
    assert found.prefix.endswith("уполномоченным органом ")
    assert len(found.prefix) == CONTEXT
    assert found.suffix == "."
    assert found.end - found.start == len(found.quote)


def test_locate_quote_absent_or_empty_is_none() -> None:
    assert locate_quote(V1, "в течение сорока дней") is None
    assert locate_quote(V1, "  \n") is None


def test_ambiguous_quote_prefers_block_then_context() -> None:
    text = (
        "Article 1. Scope\n\n(1) The licence is issued.\n\n"
        "Article 2. Terms\n\n(1) The licence is issued.\n"
    )
    assert anchor(text, "The licence is issued").block == "art_1__para_1"
    assert anchor(text, "The licence is issued", block="art_2__para_1").block == ("art_2__para_1")
    second = "Article 1. Scope\n\n(1) First, the licence.\n\n(2) Then, the licence.\n"
    assert anchor(second, "the licence", prefix="Then, ").block == "art_1__para_2"
    assert anchor(second, "the licence", suffix=".", prefix="First, ").block == ("art_1__para_1")


def test_story_from_v1_to_v3() -> None:
    unchanged = anchor(V1, "товары, которые могут быть использованы")
    moved = anchor(V1, "Разрешение на транзит выдаётся на каждую поставку.")
    reworded = anchor(
        V1, "Лицензия выдаётся уполномоченным органом в течение тридцати рабочих дней."
    )
    deleted = anchor(V1, "Срок действия лицензии не может превышать одного года.")
    results = reanchor([unchanged, moved, reworded, deleted], V1, V3)
    assert [r.status for r in results] == ["current", "moved", "changed", "orphaned"]
    current, moved_to, changed, orphaned = results
    assert (current.block, current.quote) == ("art_2__para_1", unchanged.quote)
    assert current.start == unchanged.start
    assert moved_to.block == "art_5__p1"
    assert changed.block == "art_3__para_1"
    assert changed.quote == (
        "Лицензия выдаётся уполномоченным органом в течение сорока пяти рабочих дней."
    )
    assert (orphaned.block, orphaned.start, orphaned.quote) == (None, None, deleted.quote)


def test_offsets_shift_but_the_quote_stays_current() -> None:
    found = anchor(V1, "одного года")
    new = V1.replace("не может превышать", "при этом не может превышать")
    result = reanchor([found], V1, new)[0]
    assert result.status == "current"
    assert result.start == found.start + len("при этом ")


def test_repeated_quote_in_a_block_keeps_the_one_with_the_same_context() -> None:
    old = "Article 1. Terms\n\n(1) A permit, a permit, a permit, or a licence.\n"
    second = anchor(old, "a permit", prefix="(1) A permit, ")
    new = old.replace("(1) A permit", "(1) Nothing but a permit")
    result = reanchor([second], old, new)[0]
    assert result.status == "current"
    assert result.start is not None
    assert new.splitlines()[2][result.start - len("permit, ") : result.start] == "permit, "


def test_quote_with_a_changed_word_in_english() -> None:
    old = "Article 2. Licensing\n\n(1) The authority shall decide within thirty days.\n"
    new = "Article 2. Licensing\n\n(1) The authority shall decide within forty days.\n"
    result = reanchor([anchor(old, "shall decide within thirty days")], old, new)[0]
    assert result.status == "changed"
    assert result.quote == "shall decide within forty days"


def test_reworded_beyond_the_threshold_is_orphaned() -> None:
    old = "Article 2. Licensing\n\n(1) The authority shall decide within thirty days.\n"
    new = "Article 2. Licensing\n\n(1) Applications are answered promptly by email.\n"
    result = reanchor([anchor(old, "shall decide within thirty days")], old, new)[0]
    assert result.status == "orphaned"


def test_block_unknown_to_the_old_version_is_searched_everywhere() -> None:
    stale = Anchor("art_99", 0, 11, "одного года", "", "")
    assert reanchor([stale], V1, V1)[0].status == "moved"


@pytest.mark.parametrize("quote", ["Статья 2", "2. Срок действия", "Экспорт товаров"])
def test_every_located_quote_is_current_on_the_same_text(quote: str) -> None:
    found = anchor(V1, quote)
    result = reanchor([found], V1, V1)[0]
    assert (result.status, result.block, result.start, result.end) == (
        "current",
        found.block,
        found.start,
        found.end,
    )
