"""Hostile packages: each refused with its own error and status, quickly and in little memory."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest

from repo_store.word import errors
from repo_store.word.package import WordLimits, WordPackage, parse_xml
from repo_store.word.reader import read_docx
from tests.support.docx_builder import Package, paragraph, zip_parts
from tests.support.docx_hostile import HOSTILE


@pytest.mark.parametrize(
    ("make", "error", "status", "kind"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_file_is_refused_quickly_and_in_little_memory(
    make: Callable[[], bytes], error: str, status: int, kind: str
) -> None:
    data = make()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(getattr(errors, error)) as caught:
            read_docx(data)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (caught.value.status, caught.value.kind) == (status, kind)
    assert isinstance(caught.value, errors.WordError)
    assert str(caught.value)
    assert elapsed < 1.0
    # Nothing is unpacked past a bound: the refusal costs about the file itself, at most.
    assert peak < 4 * 2**20 + 2 * len(data)


def test_limits_are_the_callers_to_tighten() -> None:
    docx = Package([paragraph("Статья 1. " + "слово " * 5000)]).build()
    assert read_docx(docx).text.startswith("Статья 1.")
    with pytest.raises(errors.PackageTooLarge):
        read_docx(docx, limits=WordLimits(max_part_bytes=10_000))
    with pytest.raises(errors.PackageTooLarge):
        read_docx(docx, limits=WordLimits(max_parts=3))
    with pytest.raises(errors.PackageTooLarge):
        read_docx(docx, limits=WordLimits(max_file_bytes=len(docx) - 1))


def test_only_the_parts_the_text_needs_are_unpacked() -> None:
    parts = Package([paragraph("Article 1")]).parts()
    parts["word/media/unused.bin"] = b"\x00" * 500_000
    package = WordPackage(zip_parts(parts), WordLimits())
    assert package.main_xml.startswith(b"<?xml")
    assert package._unpacked < 10_000  # noqa: SLF001  (the count is what this test is about)


def test_entities_are_never_expanded_even_after_the_root() -> None:
    with pytest.raises(errors.CorruptPackage):
        parse_xml(b"<a>&undefined;</a>", "word/document.xml")
    with pytest.raises(errors.XmlEntities):
        parse_xml("<?xml version='1.0' encoding='utf-16'?><!DOCTYPE a><a/>".encode("utf-16"), "x")
