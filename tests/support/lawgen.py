"""Generate deterministic sample laws on export control, and edited versions of them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

_WORDS = (
    "товары двойного назначения экспорт импорт транзит реэкспорт лицензия разрешение "
    "уполномоченный государственный орган контроль таможенный перечень заявитель решение срок "
    "порядок настоящий закон постановление правительство республика информация сведения "
    "технология оборудование материалы программное обеспечение конечный пользователь "
    "гарантии использования проверка регистрация нарушение ответственность штраф отказ выдача "
    "продление приостановление аннулирование документы заявление представляет рассматривает "
    "течение рабочих дней со дня получения осуществляется соответствии установленном "
    "международными обязательствами нераспространение оружия массового уничтожения средств "
    "доставки ядерные химические биологические радиоактивные вещества брокерская деятельность "
    "посредническая услуги передача нематериальная форма электронный сведения учет хранение "
    "licence end-user dual-use goods export control authority catch-all "
    "Wassenaar Arrangement Nuclear Suppliers Group Australia Group"
).split()
_TITLES = (
    "Лицензирование экспорта",
    "Контроль транзита",
    "Основные понятия",
    "Полномочия органа",
    "Порядок выдачи лицензии",
    "Отказ в выдаче лицензии",
    "Ответственность за нарушение",
    "Гарантии конечного использования",
    "Брокерская деятельность",
    "Учет и хранение документов",
    "Передача технологий",
    "Идентификация товаров",
    "Международное сотрудничество",
)
_ITEM_LETTERS = "абвгдежзиклмн"


@dataclass
class Article:
    """One article: its title and numbered paragraphs, each a list of words."""

    number: int
    title: str
    paragraphs: list[list[str]] = field(default_factory=list)
    items: list[list[str]] = field(default_factory=list)


def _sentence(rng: random.Random, low: int, high: int) -> list[str]:
    count = rng.randint(low, high)
    sentence = [rng.choice(_WORDS) for _ in range(count)]
    sentence[0] = sentence[0].capitalize()
    sentence[-1] += "."
    return sentence


def generate_articles(size_bytes: int, seed: int) -> list[Article]:
    """Generate articles until their rendering reaches about ``size_bytes`` of UTF-8."""
    rng = random.Random(seed)
    articles: list[Article] = []
    total = 0
    while total < size_bytes:
        article = Article(len(articles) + 1, rng.choice(_TITLES))
        for _ in range(rng.randint(1, 2)):
            article.paragraphs.append(_sentence(rng, 5, 12))
        if rng.random() < 0.1:
            article.items = [_sentence(rng, 3, 6) for _ in range(rng.randint(2, 4))]
        articles.append(article)
        total += len(render_article(article, 72).encode())
    return articles


def wrap(words: list[str], width: int) -> str:
    """Join words into lines of at most width characters (a longer word stands alone)."""
    lines: list[str] = []
    line = ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def render_article(article: Article, width: int, reflow: int = -1) -> str:
    """Render one article; paragraph ``reflow`` is wrapped at a different width."""
    parts = [f"Статья {article.number}. {article.title}\n"]
    for index, paragraph in enumerate(article.paragraphs, start=1):
        text = [f"{index}.", *paragraph]
        parts.append(wrap(text, 41 if index - 1 == reflow else width) + "\n")
    for letter, item in zip(_ITEM_LETTERS, article.items, strict=False):
        parts.append(wrap([f"{letter})", *item], width) + "\n")
    return "\n".join(parts)


def render_law(articles: list[Article], reflow_at: tuple[int, int] = (-1, -1)) -> str:
    """Render a whole law with a title and a chapter heading every 100 articles."""
    parts = ["# Закон Республики «Об экспортном контроле»\n"]
    for index, article in enumerate(articles):
        if index % 100 == 0:
            parts.append(f"## Глава {index // 100 + 1}. Общие положения\n")
        reflow = reflow_at[1] if index == reflow_at[0] else -1
        parts.append(render_article(article, 72, reflow))
    return "\n".join(parts)


def edit_words(articles: list[Article], edits: int, seed: int) -> list[Article]:
    """Return a copy with ``edits`` single words replaced at scattered places."""
    rng = random.Random(seed)
    edited = [
        Article(a.number, a.title, [list(p) for p in a.paragraphs], [list(i) for i in a.items])
        for a in articles
    ]
    for _ in range(edits):
        article = rng.choice(edited)
        paragraph = rng.choice(article.paragraphs)
        at = rng.randrange(len(paragraph))
        paragraph[at] = "изменённое" + ("." if paragraph[at].endswith(".") else "")
    return edited


def law_versions(size_bytes: int, seed: int = 1540, edits: int = 40) -> tuple[str, str]:
    """Return a law and a second version with scattered word edits and one reflowed paragraph."""
    articles = generate_articles(size_bytes, seed)
    edited = edit_words(articles, edits, seed + 1)
    old = render_law(articles)
    new = render_law(edited, reflow_at=(len(articles) // 2, 0))
    return old, new


def rewritten_law(size_bytes: int, seed: int = 1540) -> tuple[str, str]:
    """Return a law and a wholly rewritten version with the same structure."""
    articles = generate_articles(size_bytes, seed)
    rng = random.Random(seed + 7)
    rewritten = [
        Article(
            a.number,
            rng.choice(_TITLES),
            [_sentence(rng, 6, 16) for _ in a.paragraphs],
            [_sentence(rng, 3, 6) for _ in a.items],
        )
        for a in articles
    ]
    return render_law(articles), render_law(rewritten)
