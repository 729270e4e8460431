"""Pairs of versions the redline tests export: the demo drafts, generated laws, tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.support.lawgen import Article, edit_words, generate_articles, render_law

DEMO = Path(__file__).resolve().parents[3] / "server" / "demo_data"
DEMO_DOCUMENTS = ("blr-export-law", "kgz-control-list", "tjk-biosecurity-regulation")


def demo_pair(name: str) -> tuple[str, str]:
    return (
        (DEMO / f"{name}-v1.md").read_text(encoding="utf-8"),
        (DEMO / f"{name}-v2.md").read_text(encoding="utf-8"),
    )


def restructured_law(size_bytes: int = 40_000, seed: int = 11) -> tuple[str, str]:
    """A generated law and a version with word edits, a moved, an inserted and a deleted
    article, a new paragraph, a deleted paragraph and changed items."""
    articles = generate_articles(size_bytes, seed)
    edited = edit_words(articles, 12, seed + 1)
    moved = edited.pop(5)
    edited.insert(20, moved)
    del edited[30]
    edited.insert(
        40,
        Article(
            9001,
            "Новая статья",
            [["Настоящая", "статья", "добавлена", "при", "доработке."]],
        ),
    )
    edited[2] = replace(edited[2], paragraphs=[*edited[2].paragraphs, ["Новый", "абзац."]])
    edited[8] = replace(edited[8], paragraphs=edited[8].paragraphs[:1])
    edited[12] = replace(edited[12], items=[["а", "пункт", "изменён."], ["новый", "пункт."]])
    # Two moves that cross: a block moved up and another moved down past it.
    late = edited.pop(60)
    edited.insert(45, late)
    return render_law(articles), render_law(edited)


TABLE_OLD = """# Национальный контрольный список

| № | Наименование | Код ТН ВЭД |
|---|---|---|
| 1.1 | Природный уран | 2844 10 |
| 1.2 | Центрифуги газовые | 8401 20 |
| 1.3 | Пульты управления | 8537 10 |

Раздел 2. Химикаты

2.1. Токсичные химикаты.
"""

TABLE_NEW = """# Национальный контрольный список

| № | Наименование | Код ТН ВЭД |
|---|---|---|
| 1.1 | Природный и обеднённый уран | 2844 10 |
| 1.4 | Роторы центрифуг | 8401 40 |
| 1.3 | Пульты управления | 8537 10 |
| 1.5 | Сильфоны | 8307 90 |

Раздел 2. Химикаты

2.1. Токсичные химикаты и прекурсоры.
"""

ENGLISH_OLD = """# Regulation on dual-use goods

Article 1. Scope

(1) This Regulation applies to exports.

(2) It does not apply to transit.

Article 2. Definitions

In this Regulation, "goods" means items, software and technology.

Article 3. Licences

A licence is valid for two years.
"""

ENGLISH_NEW = """# Regulation on dual-use goods (revised)

Article 1. Scope

(1) This Regulation applies to exports and brokering.

Article 3. Licences

A licence is valid for one year & may be renewed <once>.

Article 2. Definitions

In this Regulation, "goods" means items, software and technology.

Article 4. Entry into force

This Regulation enters into force on 1 January.
"""


def rows_as_blocks(text: str) -> str:
    """The same table as the Word reader stores it: a row per block, no header rule."""
    lines = [line for line in text.split("\n") if not line.startswith("|---")]
    return "\n".join(f"{line}\n" if line.startswith("|") else line for line in lines)


PAIRS: dict[str, tuple[str, str]] = {
    **{name: demo_pair(name) for name in DEMO_DOCUMENTS},
    "restructured-law": restructured_law(),
    "control-list-table": (TABLE_OLD, TABLE_NEW),
    "control-list-rows": (rows_as_blocks(TABLE_OLD), rows_as_blocks(TABLE_NEW)),
    "english-moves": (ENGLISH_OLD, ENGLISH_NEW),
    "from-nothing": ("", ENGLISH_NEW),
    "to-nothing": (ENGLISH_OLD, ""),
}
