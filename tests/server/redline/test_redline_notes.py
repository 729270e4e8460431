"""A review's real comments become the PDF's numbered notes: threads in the order of the text,
replies under their comment, a comment the version no longer holds listed last."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from repo_store.diff import diff_texts
from server.redline.notes import note_threads
from server.redline.pdf import render_redline_pdf
from tests.server.review_fixtures import LAW_V1, LAW_V3, ReviewWorld


def _comment(world: ReviewWorld, role: str, **body: Any) -> int:
    made = world[role].post(world.url("/comments"), json=body)
    assert made.status_code == 201, made.json
    comment_id: int = made.json["id"]
    return comment_id


def test_comments_become_numbered_notes_in_text_order(
    review_world: ReviewWorld, tmp_path: Path
) -> None:
    world = review_world
    v1, v3 = world.push(LAW_V1), world.push(LAW_V3)
    for version in (v1, v3):
        assert world.share(version).status_code == 201
    on = {"party": "BLR", "slug": "export-law"}
    # Posted against the order of the text: the later provision first.
    later = _comment(world, "peer", **on, version=v3, quote="Таможенные органы", body="Кто именно?")
    earlier = _comment(
        world, "peer", **on, version=v3, quote="двадцати рабочих дней", body="Почему короче?"
    )
    _comment(world, "own", parent=earlier, body="Так требует регламент.")
    gone = _comment(
        world, "peer", **on, version=v1, quote="административная ответственность", body="Какая?"
    )
    listed = world["peer"].get(world.url("/comments"), query_string={**on, "version": v3})
    assert listed.status_code == 200, listed.json

    notes = note_threads(listed.json, diff_texts(LAW_V1, LAW_V3))

    assert [(n.number, n.id) for n in notes] == [(1, str(earlier)), (2, str(later)), (3, str(gone))]
    first, second, third = notes
    assert first.block == "art_2__para_2"
    assert first.quote == "двадцати рабочих дней"
    assert first.author == "expert@kgz.example (KGZ)"
    assert first.date.endswith(" UTC")
    assert [(r.author, r.body) for r in first.replies] == [
        ("expert@blr.example (BLR)", "Так требует регламент.")
    ]
    assert second.block == "art_2__para_3"
    assert third.block == ""  # the quoted words are gone from this version

    pdf = render_redline_pdf(
        diff_texts(LAW_V1, LAW_V3),
        title="Закон",
        old_label="v1",
        new_label="v3",
        language="ru",
        notes=notes,
        ui="ru",
    )
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, timeout=60)
        .stdout.decode()
        .split()
    )
    assert "двадцати рабочих дней1 со дня" in text
    assert "Таможенные органы2" in text
    notes_part = text[text.index("Примечания") :]
    assert "Почему короче?" in notes_part
    assert "Так требует регламент." in notes_part
    assert "Какая?" in notes_part
    assert "не размещено" in notes_part
