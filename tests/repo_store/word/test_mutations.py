"""Damaged packages: any byte of any part may be wrong, and the reader only ever says WordError."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from repo_store.word.errors import WordError
from repo_store.word.reader import read_docx
from tests.support import docx_corpus
from tests.support.docx_builder import zip_parts

SOURCES = [make().docx for make in docx_corpus.GOOD_CASES]
SOURCES += [docx_corpus.ru_tracked_changes().docx, docx_corpus.ru_tracked_moves_rows().docx]


def mutated(rng: random.Random) -> bytes:
    """One corpus document with a few bytes of one XML part changed, cut or repeated."""
    with zipfile.ZipFile(io.BytesIO(rng.choice(SOURCES))) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = rng.choice(sorted(n for n in parts if n.endswith((".xml", ".rels"))))
    data = bytearray(parts[name])
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.4:
            data[at] = rng.choice(b'0123456789-<>"/ %wabc\xff')
        elif choice < 0.7:
            del data[at : at + rng.randint(1, 20)]
        else:
            data[at:at] = data[rng.randrange(len(data)) :][: rng.randint(1, 40)]
    parts[name] = bytes(data)
    return zip_parts(parts)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_documents_give_text_or_a_word_error(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(100):
        blob = mutated(rng)
        for mode in ("refuse", "accept", "reject"):
            assert _outcome(blob, mode) in ("text", 413, 415, 422)


def _outcome(blob: bytes, mode: str) -> str | int:
    """ "text" for a reading that gives stored text, else the refusal's status."""
    try:
        result = read_docx(blob, revisions=mode)  # type: ignore[arg-type]
    except WordError as error:
        return error.status
    return "text" if result.text == "" or result.text.endswith("\n") else "malformed"
