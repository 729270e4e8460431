"""The terminal redline: colours when asked, plain markers otherwise, moves and warnings named."""

from __future__ import annotations

from typing import Any

from clients.redline import render_redline

DIFF: dict[str, Any] = {
    "party": "BLR",
    "slug": "export-law",
    "from": "a" * 40,
    "to": "b" * 40,
    "blocks": [
        {"op": "equal", "old_id": "h1", "new_id": "h1", "renumbered": False,
         "text": "# Закон", "tokens": []},
        {"op": "replace", "old_id": "art_3__para_2", "new_id": "art_3__para_2",
         "renumbered": False, "text": "в течение двадцати рабочих дней",
         "tokens": [{"op": "equal", "text": "в течение"}, {"op": "delete", "text": " тридцати"},
                    {"op": "insert", "text": " двадцати рабочих"},
                    {"op": "equal", "text": " дней"}]},
        {"op": "move", "old_id": "art_4__p1", "new_id": "art_2__para_3", "renumbered": True,
         "text": "(3) Таможенные органы", "tokens": [], "old_place": "Статья 4"},
        {"op": "delete", "old_id": "art_5", "new_id": None, "renumbered": False,
         "text": "Статья 5. Контроль", "tokens": [{"op": "delete", "text": "Статья 5. Контроль"}]},
    ],
    "warnings": [{"type": "bidi_control", "side": "new", "block": "art_1", "offset": 3,
                  "code_point": "U+202E", "name": "RIGHT-TO-LEFT OVERRIDE"}],
    "stats": {"replace": 1, "move": 1, "delete": 1, "words_inserted": 2, "words_deleted": 1},
}  # fmt: skip


def test_plain_redline_marks_words_with_brackets() -> None:
    text = "\n".join(render_redline(DIFF, color=False))
    assert "\x1b[" not in text
    assert "~ в течение [-тридцати-] {+двадцати рабочих+} дней" in text
    assert "> [moved from Статья 4] (3) Таможенные органы" in text
    assert "- [-Статья 5. Контроль-]" in text
    assert "1 changed, 1 removed, 1 moved; 2 word(s) inserted, 1 deleted" in text
    assert "RIGHT-TO-LEFT OVERRIDE (U+202E)" in text


def test_coloured_redline_strikes_out_in_red_and_inserts_in_green() -> None:
    text = "\n".join(render_redline(DIFF, color=True))
    assert "\x1b[31m\x1b[9mтридцати" in text  # red, struck through
    assert "\x1b[32m" in text  # green
    assert "[-" not in text


def test_changes_only_leaves_unchanged_blocks_out() -> None:
    text = "\n".join(render_redline(DIFF, color=False, context=False))
    assert "# Закон" not in text
    assert "тридцати" in text


def test_escape_sequences_in_a_text_cannot_reach_the_terminal() -> None:
    hostile = {
        **DIFF,
        "blocks": [
            {"op": "insert", "old_id": None, "new_id": "p1", "renumbered": False,
             "text": "ok\x1b]0;owned\x07 \x9b2J", "tokens": []},
        ],
    }  # fmt: skip
    text = "\n".join(render_redline(hostile, color=True))
    assert "\x1b]" not in text
    assert "\x9b" not in text
    assert "\\x1b]0;owned\\x07 \\x9b2J" in text


def test_a_move_from_a_server_that_names_no_place_shows_the_old_id() -> None:
    blocks = [{**b, "old_place": None} if b["op"] == "move" else b for b in DIFF["blocks"]]
    text = "\n".join(render_redline({**DIFF, "blocks": blocks}, color=False))
    assert "> [moved from art_4__p1] (3) Таможенные органы" in text
