"""The Russian catalogue: every interface text translated, and the compiled file up to date."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import server.web

WEB = Path(server.web.__file__).parent
CATALOGUE = WEB / "translations" / "ru" / "LC_MESSAGES"


def test_every_interface_text_has_a_russian_translation() -> None:
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    wanted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(WEB), method_map, keywords={"_": None, "gettext": None})
    }
    missing = sorted(m for m in wanted if not ((found := catalogue.get(m)) and found.string))
    assert missing == []


def _text(value: object) -> object:
    # A plural message's id and translations are sequences: compare them as tuples.
    return tuple(value) if isinstance(value, list | tuple) else value


def test_the_compiled_catalogue_matches_its_source() -> None:
    with (CATALOGUE / "messages.po").open("rb") as handle:
        source = {_text(m.id): _text(m.string) for m in read_po(handle) if m.id}
    compiled = read_mo(io.BytesIO((CATALOGUE / "messages.mo").read_bytes()))
    assert {_text(m.id): _text(m.string) for m in compiled if m.id} == source
