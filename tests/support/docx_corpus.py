"""The .docx corpus of the reader's tests: each case a package, the text it must read as, and the
kinds of block the diff grammar must find in that text."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.docx_builder import (
    REL,
    Lvl,
    Numbering,
    Package,
    deleted,
    inserted,
    paragraph,
    run,
    table,
)


@dataclass(frozen=True)
class Case:
    """A good document: its bytes, the exact text to read and the block kinds in order."""

    name: str
    docx: bytes
    text: str
    kinds: tuple[str, ...]
    title: str | None
    language: str | None


def _law_numbering() -> Numbering:
    # Articles at level 0, their parts at level 1, points at level 2: parts and points restart
    # under each new article as Word restarts them.
    return Numbering(
        {
            1: [
                Lvl("decimal", "Статья %1.", suffix="space"),
                Lvl("decimal", "%2."),
                Lvl("russianLower", "%3)"),
            ]
        },
        {1: (1, {})},
    )


def ru_law_articles() -> Case:
    body = [
        paragraph("Закон Республики «Об экспортном контроле»", style="Title"),
        paragraph("Сфера применения", style="Heading2", num=(1, 0)),
        paragraph("Настоящий Закон определяет порядок экспорта.", num=(1, 1)),
        paragraph("Действие Закона распространяется на:", num=(1, 1)),
        paragraph("товары двойного назначения;", num=(1, 2)),
        paragraph("технологии;", num=(1, 2)),
        paragraph("услуги посредников.", num=(1, 2)),
        paragraph("Основные понятия", style="Heading2", num=(1, 0)),
        paragraph("Экспортёр — лицо, заключившее договор.", num=(1, 1)),
        paragraph("Лицензия — разрешение органа.", num=(1, 1)),
        paragraph("Ответственность", style="Heading2", num=(1, 0)),
        paragraph("Нарушение настоящего Закона влечёт ответственность."),
    ]
    text = (
        "# Закон Республики «Об экспортном контроле»\n\n"
        "Статья 1. Сфера применения\n\n"
        "1. Настоящий Закон определяет порядок экспорта.\n\n"
        "2. Действие Закона распространяется на:\n\n"
        "а) товары двойного назначения;\n\nб) технологии;\n\nв) услуги посредников.\n\n"
        "Статья 2. Основные понятия\n\n"
        "1. Экспортёр — лицо, заключившее договор.\n\n2. Лицензия — разрешение органа.\n\n"
        "Статья 3. Ответственность\n\n"
        "Нарушение настоящего Закона влечёт ответственность.\n"
    )
    kinds: tuple[str, ...] = (
        "heading",
        "article",
        "paragraph",
        "paragraph",
        "item",
        "item",
        "item",
    )
    kinds += ("article", "paragraph", "paragraph", "article", "text")
    return Case(
        "ru_law_articles",
        Package(body, _law_numbering(), title="Об экспортном контроле").build(),
        text,
        kinds,
        "Об экспортном контроле",
        "ru",
    )


def en_levels_restarts_overrides() -> Case:
    numbering = Numbering(
        {
            1: [
                Lvl("decimal", "%1."),
                Lvl("decimal", "%1.%2."),
                Lvl("lowerLetter", "(%3)"),
                Lvl("lowerRoman", "(%4)", restart=1),
            ],
            2: [Lvl("upperLetter", "%1."), Lvl("decimal", "%1.%2.", legal=True)],
        },
        # Instance 2 shares abstract 1 and goes on counting; instance 3 restarts it at 10.
        {1: (1, {}), 2: (1, {}), 3: (1, {0: 10}), 4: (2, {})},
    )
    body = [
        paragraph("Scope", style="Heading1"),
        paragraph("This Regulation applies to exports.", num=(1, 0)),
        paragraph("It covers goods.", num=(1, 1)),
        paragraph("It covers software.", num=(1, 1)),
        paragraph("including source code;", num=(1, 2)),
        paragraph("including object code;", num=(1, 2)),
        paragraph("in any medium;", num=(1, 3)),
        paragraph("by any means.", num=(1, 3)),
        paragraph("It covers technology.", num=(1, 1)),
        paragraph("without limitation;", num=(1, 3)),
        paragraph("Definitions continue the list.", num=(2, 0)),
        paragraph("Goods means items.", num=(2, 1)),
        paragraph("Transitional provisions restart at ten.", num=(3, 0)),
        paragraph("Their first part.", num=(3, 1)),
        paragraph("Annex", num=(4, 0)),
        paragraph("Legal numbering shows decimals.", num=(4, 1)),
    ]
    text = (
        "# Scope\n\n1. This Regulation applies to exports.\n\n1.1. It covers goods.\n\n"
        "1.2. It covers software.\n\n(a) including source code;\n\n(b) including object code;\n\n"
        "(i) in any medium;\n\n(ii) by any means.\n\n1.3. It covers technology.\n\n"
        "(iii) without limitation;\n\n2. Definitions continue the list.\n\n"
        "2.1. Goods means items.\n\n10. Transitional provisions restart at ten.\n\n"
        "10.1. Their first part.\n\nA. Annex\n\n1.1. Legal numbering shows decimals.\n"
    )
    kinds: tuple[str, ...] = (
        "heading",
        "paragraph",
        "paragraph",
        "paragraph",
        "item",
        "item",
        "item",
        "item",
    )
    kinds += ("paragraph", "item", "paragraph", "paragraph", "paragraph", "paragraph", "text")
    kinds += ("paragraph",)
    return Case(
        "en_levels_restarts_overrides",
        Package(body, numbering, language="en-GB").build(),
        text,
        kinds,
        "Scope",
        "en",
    )


def ru_chapters_upper_roman() -> Case:
    numbering = Numbering(
        {
            1: [Lvl("upperRoman", "Глава %1.", suffix="space")],
            2: [Lvl("decimal", "Статья %1.", suffix="nothing")],
        },
        {1: (1, {}), 2: (2, {})},
    )
    body = [
        paragraph("Общие положения", style="Heading1", num=(1, 0)),
        paragraph("Цели", style="Heading2", num=(2, 0)),
        paragraph("Закон защищает безопасность."),
        paragraph("Лицензирование", style="Heading1", num=(1, 0)),
        paragraph("Порядок выдачи", style="Heading2", num=(2, 0)),
        paragraph("Лицензия выдаётся органом."),
        paragraph("Заключительные положения", style="Heading1", num=(1, 0)),
        paragraph("Вступление в силу", style="Heading2", num=(2, 0)),
        paragraph("Закон вступает в силу через десять дней."),
    ]
    text = (
        "# Глава I. Общие положения\n\nСтатья 1. Цели\n\nЗакон защищает безопасность.\n\n"
        "# Глава II. Лицензирование\n\nСтатья 2. Порядок выдачи\n\nЛицензия выдаётся органом.\n\n"
        "# Глава III. Заключительные положения\n\nСтатья 3. Вступление в силу\n\n"
        "Закон вступает в силу через десять дней.\n"
    )
    kinds: tuple[str, ...] = ("heading", "article", "text") * 3
    return Case(
        "ru_chapters_upper_roman",
        Package(body, numbering).build(),
        text,
        kinds,
        "Глава I. Общие положения",
        "ru",
    )


def ru_typed_numbers() -> Case:
    # Numbers typed by hand, with the no-break spaces and tabs Word users put after them.
    body = [
        paragraph("Статья\u00a01.\tПредмет регулирования"),
        paragraph("1)\tНастоящее постановление   устанавливает порядок."),
        paragraph("2)\tПорядок\u00a0применяется к:"),
        paragraph("а)\tэкспорту;"),
        paragraph("б)\tтранзиту."),
        paragraph(""),
        paragraph("Статья 2. Контроль"),
        paragraph("Контроль осуществляет\nуполномоченный орган."),
    ]
    text = (
        "Статья 1. Предмет регулирования\n\n1) Настоящее постановление устанавливает порядок.\n\n"
        "2) Порядок применяется к:\n\nа) экспорту;\n\nб) транзиту.\n\nСтатья 2. Контроль\n\n"
        "Контроль осуществляет\nуполномоченный орган.\n"
    )
    kinds: tuple[str, ...] = (
        "article",
        "paragraph",
        "paragraph",
        "item",
        "item",
        "article",
        "text",
    )
    return Case("ru_typed_numbers", Package(body).build(), text, kinds, None, "ru")


def en_table() -> Case:
    body = [
        paragraph("Article 4 Fees"),
        paragraph("The fees are set out below."),
        table(
            [
                ("Service", "Fee (EUR)", "Time limit"),
                ("Individual licence", "50", "30 days"),
                ("Global licence", "200", "60 days"),
                ("Amendment | correction", "10", "10 days"),
                ("", "", ""),
            ]
        ),
        paragraph("Fees are paid in advance."),
    ]
    text = (
        "Article 4 Fees\n\nThe fees are set out below.\n\n| Service | Fee (EUR) | Time limit |\n\n"
        "| Individual licence | 50 | 30 days |\n\n| Global licence | 200 | 60 days |\n\n"
        "| Amendment \\| correction | 10 | 10 days |\n\nFees are paid in advance.\n"
    )
    kinds: tuple[str, ...] = ("article", "text", "text", "text", "text", "text", "text")
    return Case("en_table", Package(body, language="en-US").build(), text, kinds, None, "en")


def ru_control_list() -> Case:
    # A national control list: one row is one entry, its number made by Word in the first cell.
    numbering = Numbering({1: [Lvl("decimal", "%1."), Lvl("decimal", "%1.%2.")]}, {1: (1, {})})

    def cell(text: str, level: int) -> str:
        return paragraph(text, num=(1, level))

    rows = [
        ("<w:p><w:r><w:t>№</w:t></w:r></w:p>", paragraph("Наименование"), paragraph("Код ТН ВЭД")),
        (cell("", 0), paragraph("Ядерные материалы"), paragraph("")),
        (cell("", 1), paragraph("Природный уран"), paragraph("2612 10 000 0")),
        (cell("", 1), paragraph("Торий"), paragraph("2612 20")),
        (cell("", 0), paragraph("Химические вещества"), paragraph("")),
        (cell("", 1), paragraph("Зарин"), paragraph("2931 39 900 0")),
    ]
    xml = (
        "<w:tbl>"
        + "".join("<w:tr>" + "".join(f"<w:tc>{c}</w:tc>" for c in row) + "</w:tr>" for row in rows)
        + "</w:tbl>"
    )
    body = [paragraph("Национальный контрольный список", style="Title"), xml]
    # The number cells hold empty numbered paragraphs: Word shows just the label there.
    text = (
        "# Национальный контрольный список\n\n| № | Наименование | Код ТН ВЭД |\n\n"
        "| 1. | Ядерные материалы | |\n\n| 1.1. | Природный уран | 2612 10 000 0 |\n\n"
        "| 1.2. | Торий | 2612 20 |\n\n| 2. | Химические вещества | |\n\n"
        "| 2.1. | Зарин | 2931 39 900 0 |\n"
    )
    kinds: tuple[str, ...] = ("heading",) + ("text",) * 6
    return Case(
        "ru_control_list",
        Package(body, numbering).build(),
        text,
        kinds,
        "Национальный контрольный список",
        "ru",
    )


def ru_comments() -> Case:
    # Comments are the reviewers' business, not the draft's: their text must not come in.
    comments = (
        '<?xml version="1.0" encoding="UTF-8"?><w:comments xmlns:w="'
        'http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:comment w:id="0" '
        'w:author="Рецензент"><w:p><w:r><w:t>Уточнить срок.</w:t></w:r></w:p></w:comment>'
        "</w:comments>"
    ).encode()
    body = [
        paragraph("Статья 7. Сроки"),
        paragraph(
            [
                run("Заявление рассматривается в течение "),
                '<w:commentRangeStart w:id="0"/>',
                run("тридцати дней"),
                '<w:commentRangeEnd w:id="0"/>',
                '<w:r><w:commentReference w:id="0"/></w:r>',
                run("."),
            ]
        ),
    ]
    package = Package(
        body,
        extra_parts={"word/comments.xml": comments},
        extra_rels=[("rIdC", f"{REL}/comments", "comments.xml", False)],
        extra_types=[
            (
                "/word/comments.xml",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml",
            )
        ],
    )
    text = "Статья 7. Сроки\n\nЗаявление рассматривается в течение тридцати дней.\n"
    return Case("ru_comments", package.build(), text, ("article", "text"), None, "ru")


def ru_style_linked() -> Case:
    # Numbering carried by paragraph styles (as in most ministries' templates), the article
    # style's numbering switched off once with numId 0.
    styles = (
        '<w:style w:type="paragraph" w:styleId="Article"><w:name w:val="Статья"/>'
        '<w:basedOn w:val="Normal"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr>'
        "</w:style>"
        '<w:style w:type="paragraph" w:styleId="Part"><w:name w:val="Часть"/>'
        '<w:basedOn w:val="Normal"/><w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/>'
        "</w:numPr></w:pPr></w:style>"
        '<w:style w:type="paragraph" w:styleId="Part2"><w:name w:val="Часть 2"/>'
        '<w:basedOn w:val="Part"/></w:style>'
    )
    numbering = Numbering(
        {
            1: [
                Lvl("decimal", "Статья %1.", suffix="space", style="Article"),
                Lvl("decimal", "%2.", style="Part"),
            ]
        },
        {1: (1, {})},
    )
    body = [
        paragraph("Общие положения", style="Article"),
        paragraph("Первая часть.", style="Part"),
        paragraph("Вторая часть через унаследованный стиль.", style="Part2"),
        paragraph("Переходные положения", style="Article"),
        paragraph("Часть новой статьи.", style="Part"),
        '<w:p><w:pPr><w:pStyle w:val="Article"/><w:numPr><w:numId w:val="0"/></w:numPr></w:pPr>'
        + run("Примечание без номера.")
        + "</w:p>",
        paragraph("Заключительные положения", style="Article"),
    ]
    text = (
        "Статья 1. Общие положения\n\n1. Первая часть.\n\n2. Вторая часть через унаследованный "
        "стиль.\n\nСтатья 2. Переходные положения\n\n1. Часть новой статьи.\n\n"
        "Примечание без номера.\n\nСтатья 3. Заключительные положения\n"
    )
    kinds: tuple[str, ...] = (
        "article",
        "paragraph",
        "paragraph",
        "article",
        "paragraph",
        "text",
        "article",
    )
    return Case(
        "ru_style_linked",
        Package(body, numbering, extra_styles=styles).build(),
        text,
        kinds,
        None,
        "ru",
    )


def en_sections_fields() -> Case:
    # § sections, bullets, a hyperlink, fields (instructions hidden, results shown), hidden
    # text, a content control, and decimalZero, upperLetter and lowerRoman levels.
    numbering = Numbering(
        {
            1: [Lvl("decimal", "§ %1", suffix="space"), Lvl("decimal", "(%2)")],
            2: [Lvl("bullet", "\uf0b7"), Lvl("bullet", "o")],
            3: [Lvl("decimalZero", "%1."), Lvl("upperLetter", "%2."), Lvl("lowerRoman", "%3)")],
        },
        {1: (1, {}), 2: (2, {}), 3: (3, {})},
    )
    field = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve">'
        ' REF _Ref1 \\h </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + run("§ 2")
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    body = [
        paragraph("Purpose", style="Heading2", num=(1, 0)),
        paragraph(
            [
                run("This Act implements the "),
                '<w:hyperlink r:id="rIdLink">',
                run("Wassenaar Arrangement"),
                "</w:hyperlink>",
                run("."),
            ],
            num=(1, 1),
        ),
        paragraph(
            [
                run("See "),
                field,
                run(" and"),
                run(" (draft note)", hidden=True),
                run(" the annex."),
            ],
            num=(1, 1),
        ),
        paragraph("Duties", style="Heading2", num=(1, 0)),
        paragraph("Exporters shall:", num=(1, 1)),
        paragraph("keep records;", num=(2, 0)),
        paragraph("in writing;", num=(2, 1)),
        paragraph("report to the authority.", num=(2, 0)),
        "<w:sdt><w:sdtPr/><w:sdtContent>"
        + paragraph("Schedule entries", num=(3, 0))
        + "</w:sdtContent></w:sdt>",
        paragraph("First group", num=(3, 1)),
        paragraph("first entry", num=(3, 2)),
        paragraph("second entry", num=(3, 2)),
        paragraph("Second group", num=(3, 1)),
    ]
    text = (
        "§ 1 Purpose\n\n(1) This Act implements the Wassenaar Arrangement.\n\n"
        "(2) See § 2 and the annex.\n\n§ 2 Duties\n\n(1) Exporters shall:\n\n- keep records;\n\n"
        "- in writing;\n\n- report to the authority.\n\n01. Schedule entries\n\nA. First group\n\n"
        "i) first entry\n\nii) second entry\n\nB. Second group\n"
    )
    # The diff grammar calls bullets items too.
    kinds: tuple[str, ...] = (
        "article",
        "paragraph",
        "paragraph",
        "article",
        "paragraph",
        "item",
        "item",
    )
    kinds += ("item", "paragraph", "text", "item", "item", "text")
    links = [("rIdLink", f"{REL}/hyperlink", "https://www.wassenaar.org/", True)]
    package = Package(body, numbering, language="en-US", extra_rels=links)
    return Case("en_sections_fields", package.build(), text, kinds, "§ 1 Purpose", "en")


@dataclass(frozen=True)
class TrackedCase:
    """A document with tracked changes: how many are pending and the text each way."""

    docx: bytes
    insertions: int
    deletions: int
    accepted: str
    rejected: str


def ru_tracked_changes() -> TrackedCase:
    body = [
        paragraph("Статья 3. Разрешения"),
        paragraph(
            [
                run("1. Разрешение выдаётся в течение "),
                deleted("тридцати", 1),
                inserted("пятнадцати", 2),
                run(" дней."),
            ]
        ),
        # A paragraph inserted whole: its text and its paragraph mark are tracked.
        paragraph(
            [inserted("2. Отказ должен быть мотивирован.", 3)],
            mark='<w:ins w:id="4" w:author="Э" w:date="2026-01-05T10:00:00Z"/>',
        ),
        # A paragraph deleted whole, mark included: accepted, it goes; rejected, it stays.
        paragraph(
            [deleted("3. Решение может быть обжаловано.", 5)],
            mark='<w:del w:id="6" w:author="Э" w:date="2026-01-05T10:00:00Z"/>',
        ),
        paragraph([run("Статья 4. "), inserted("Ответственность", 7), deleted("Санкции", 8)]),
    ]
    accepted = (
        "Статья 3. Разрешения\n\n1. Разрешение выдаётся в течение пятнадцати дней.\n\n"
        "2. Отказ должен быть мотивирован.\n\nСтатья 4. Ответственность\n"
    )
    rejected = (
        "Статья 3. Разрешения\n\n1. Разрешение выдаётся в течение тридцати дней.\n\n"
        "3. Решение может быть обжаловано.\n\nСтатья 4. Санкции\n"
    )
    return TrackedCase(Package(body).build(), 4, 4, accepted, rejected)


GOOD_CASES = (
    ru_law_articles,
    en_levels_restarts_overrides,
    ru_chapters_upper_roman,
    ru_typed_numbers,
    en_table,
    ru_control_list,
    ru_comments,
    ru_style_linked,
    en_sections_fields,
)
