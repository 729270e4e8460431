"""Properties of the comparison on generated laws: replaying it rebuilds the new version."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repo_store.diff import diff_texts, normalise_text, parse_blocks
from repo_store.diff.blocks import ParsedPair, parse_pair, parse_versions
from repo_store.diff.text import words
from tests.support.diff_oracle import apply_ops
from tests.support.lawgen import wrap

# Words that cannot start a block when a wrapped line begins with them (no digits, no single
# letters, no keywords), so that a reflow changes nothing but the line breaks.
VOCABULARY = (
    "товары двойного назначения экспорт лицензия орган контроль транзит перечень заявитель "
    "решение срок порядок goods licence export authority transit end-user brokering "
    "Wassenaar Закон Genehmigung Ausfuhr разрешение, «гарантии» (сведения) технологии; "
    "выдаётся: e\u0301tat"
).split()

word = st.sampled_from(VOCABULARY)
sentence = st.lists(word, min_size=1, max_size=14)


@dataclass(frozen=True)
class Article:
    number: int
    title: tuple[str, ...]
    paragraphs: tuple[tuple[str, ...], ...]


articles = st.lists(
    st.builds(
        Article,
        st.just(0),
        st.lists(word, min_size=1, max_size=3).map(tuple),
        st.lists(sentence.map(tuple), min_size=0, max_size=4).map(tuple),
    ),
    min_size=0,
    max_size=7,
)


def render(law: list[Article], width: int) -> str:
    parts = []
    for number, article in enumerate(law, start=1):
        parts.append(f"Статья {number}. {' '.join(article.title)}")
        for index, paragraph in enumerate(article.paragraphs, start=1):
            parts.append(wrap([f"{index}.", *paragraph], width))
    return "\n\n".join(parts) + "\n"


@st.composite
def edited(draw: st.DrawFn) -> tuple[list[Article], list[Article]]:
    old = draw(articles)
    new = list(old)
    for _ in range(draw(st.integers(0, 6))):
        action = draw(st.sampled_from(["word", "insert", "delete", "move", "paragraph"]))
        if action == "insert" or not new:
            at = draw(st.integers(0, len(new)))
            new.insert(at, draw(articles.filter(bool))[0])
            continue
        at = draw(st.integers(0, len(new) - 1))
        if action == "delete":
            del new[at]
        elif action == "move":
            new.insert(draw(st.integers(0, len(new) - 1)), new.pop(at))
        elif action == "paragraph":
            paragraphs = list(new[at].paragraphs)
            paragraphs.insert(draw(st.integers(0, len(paragraphs))), tuple(draw(sentence)))
            new[at] = replace(new[at], paragraphs=tuple(paragraphs))
        elif new[at].paragraphs:
            p = draw(st.integers(0, len(new[at].paragraphs) - 1))
            paragraph = list(new[at].paragraphs[p])
            paragraph[draw(st.integers(0, len(paragraph) - 1))] = draw(word)
            paragraphs = list(new[at].paragraphs)
            paragraphs[p] = tuple(paragraph)
            new[at] = replace(new[at], paragraphs=tuple(paragraphs))
    return old, new


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(edited(), st.integers(20, 90), st.integers(20, 90))
def test_replaying_the_diff_rebuilds_the_new_version(
    versions: tuple[list[Article], list[Article]], old_width: int, new_width: int
) -> None:
    old = render(versions[0], old_width)
    new = render(versions[1], new_width)
    diff = diff_texts(old, new)
    assert apply_ops(diff, old) == words(normalise_text(new))
    old_ids = [b.old_id for b in diff.blocks if b.old_id is not None]
    assert len(old_ids) == len(set(old_ids)) == diff.stats["old_blocks"]
    assert [b.new_id for b in diff.blocks if b.new_id is not None] == [
        b.id for b in (entry.new for entry in diff.blocks) if b is not None
    ]


@SETTINGS
@given(articles, st.integers(20, 90), st.integers(20, 90))
def test_reflowing_changes_nothing(law: list[Article], old_width: int, new_width: int) -> None:
    diff = diff_texts(render(law, old_width), render(law, new_width))
    assert all(b.op == "equal" and not b.tokens for b in diff.blocks)


# Any text at all: markers, brackets, Cyrillic, combining marks, bidi controls, odd spacing.
raw_text = st.text(
    alphabet=st.sampled_from(list("ab Ая§#-*().1 2\n\n\t\u00a0\u0301\u202e,;Статья5Article")),
    max_size=300,
)


@SETTINGS
@given(raw_text, raw_text)
def test_replaying_works_on_arbitrary_text(old: str, new: str) -> None:
    assert apply_ops(diff_texts(old, new), old) == words(normalise_text(new))


@SETTINGS
@given(edited(), st.integers(20, 90))
def test_second_version_parses_the_same_with_or_without_reuse(
    versions: tuple[list[Article], list[Article]], width: int
) -> None:
    old = normalise_text(render(versions[0], width))
    new = normalise_text(render(versions[1], width))
    assert parse_versions(old, new) == (parse_blocks(old), parse_blocks(new))


@SETTINGS
@given(raw_text, raw_text)
def test_reuse_is_invisible_on_arbitrary_text(old: str, new: str) -> None:
    old, new = normalise_text(old), normalise_text(new)
    assert parse_versions(old, new) == (parse_blocks(old), parse_blocks(new))


def assert_runs_are_shared(pair: ParsedPair) -> None:
    """Each run names the very same blocks on both sides, runs in order and apart."""
    end = 0
    for new_start, old_start, length in pair.shared:
        assert length > 0
        assert new_start >= end
        for k in range(length):
            assert pair.new[new_start + k] is pair.old[old_start + k]
        end = new_start + length


@SETTINGS
@given(edited(), st.integers(20, 90))
def test_shared_runs_are_the_same_blocks(
    versions: tuple[list[Article], list[Article]], width: int
) -> None:
    pair = parse_pair(
        normalise_text(render(versions[0], width)), normalise_text(render(versions[1], width))
    )
    assert_runs_are_shared(pair)


@SETTINGS
@given(raw_text, raw_text)
def test_shared_runs_are_the_same_blocks_on_arbitrary_text(old: str, new: str) -> None:
    assert_runs_are_shared(parse_pair(normalise_text(old), normalise_text(new)))


def test_an_unchanged_law_is_one_shared_run() -> None:
    law = normalise_text(
        render([Article(n, ("Scope",), (("licence", "export"),)) for n in range(1, 40)], 30)
    )
    pair = parse_pair(law, law)
    assert pair.shared == [(0, 0, len(pair.old))]
    assert pair.new == pair.old
