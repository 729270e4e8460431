"""The redline's own words (not the document's) in the languages of the web pages.

A redline is also read away from the site (a saved page, a printed PDF), so it carries its
words with it rather than the site's message catalogue; the languages are the same.
"""

from __future__ import annotations

from collections.abc import Mapping

WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "summary": (
            "{insert} inserted, {delete} deleted, {replace} changed, {move} moved, "
            "{renumbered} renumbered"
        ),
        "moved": "moved from {place}",
        "renumbered": "renumbered, was {place}",
        "inserted": "inserted",
        "deleted": "deleted",
        "warnings": "Warnings",
        "warning": "{code_point} {name} in block {block} of {version} (character {offset})",
        "more": "and {count} more",
        "part": "Page {page} of {pages}: blocks {first}–{end} of {blocks}",
        "part_hint": "query parameter",
        "notes": "Notes",
        "unplaced": "not placed: the commented provision is not in this version",
    },
    "ru": {
        "summary": (
            "вставлено: {insert}, удалено: {delete}, изменено: {replace}, "
            "перемещено: {move}, перенумеровано: {renumbered}"
        ),
        "moved": "перемещено из: {place}",
        "renumbered": "перенумеровано, было: {place}",
        "inserted": "вставлено",
        "deleted": "удалено",
        "warnings": "Предупреждения",
        "warning": "{code_point} {name} в блоке {block} версии {version} (символ {offset})",
        "more": "и ещё {count}",
        "part": "Страница {page} из {pages}: блоки {first}–{end} из {blocks}",
        "part_hint": "параметр запроса",
        "notes": "Примечания",
        "unplaced": "не размещено: комментируемого положения нет в этой версии",
    },
}


def words_for(language: str | None) -> Mapping[str, str]:
    """The redline's words in this language ("ru", "ru-RU"…), English for any other."""
    primary = (language or "").split("-")[0].lower()
    return WORDS.get(primary, WORDS["en"])
