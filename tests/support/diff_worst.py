"""The costliest pairs of versions the document limits still admit, for bounds and load tests."""

from __future__ import annotations

import random
from collections.abc import Callable

from server.config import DEFAULT_MAX_BLOCKS
from server.schemas import MAX_DOCUMENT_CHARS

# The reproduction: 4.5 MB of 1.5 million one-word paragraphs.
REPRODUCTION = "x\n\n" * 1_500_000


def empty_paragraphs(blocks: int = DEFAULT_MAX_BLOCKS) -> tuple[str, str]:
    """As many one-word paragraphs as a document may have; one inserted at the top."""
    return "x\n\n" * blocks, "y\n\n" + "x\n\n" * (blocks - 1)


def alternating_words(
    blocks: int = DEFAULT_MAX_BLOCKS, chars: int = MAX_DOCUMENT_CHARS
) -> tuple[str, str]:
    """Every block at its most words, every other word changed: the most word runs."""
    per_block = chars // blocks - 2

    def version(changed: bool) -> str:
        paragraphs = []
        for b in range(blocks):
            words: list[str] = []
            size = k = 0
            while True:
                word = f"v{k % 10}" if changed and k % 2 else f"w{b % 97}x{k}"
                if size + len(word) + 1 > per_block:
                    break
                words.append(word)
                size += len(word) + 1
                k += 1
            paragraphs.append(" ".join(words))
        return "\n\n".join(paragraphs)

    return version(False), version(True)


def one_letter_words(
    blocks: int = DEFAULT_MAX_BLOCKS, chars: int = MAX_DOCUMENT_CHARS
) -> tuple[str, str]:
    """Paragraphs of one-letter words from a ten-letter alphabet, wholly rewritten: every block
    is like every other, and no word anchors an alignment."""
    rng = random.Random(7)
    per_block = chars // blocks - 2

    def version() -> str:
        return "\n\n".join(
            " ".join(rng.choice("abcdefghij") for _ in range(per_block // 2)) for _ in range(blocks)
        )

    return version(), version()


WORST: dict[str, Callable[[], tuple[str, str]]] = {
    "empty_paragraphs": empty_paragraphs,
    "alternating_words": alternating_words,
    "one_letter_words": one_letter_words,
}
