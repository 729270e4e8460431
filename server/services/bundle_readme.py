"""README.txt inside a final bundle: how to verify it with standard tools, command by command.

The text is the template server/templates/bundle/README.txt.
"""

from __future__ import annotations

import functools
from importlib import resources

from jinja2 import Environment, StrictUndefined, Template, select_autoescape

from keys.protocol import principal


@functools.cache
def _template() -> Template:
    source = resources.files("server").joinpath("templates/bundle/README.txt")
    # Plain text, not HTML: escaping is for .html templates only, and this one is read from a
    # string (a page that shows it escapes it). Every value put in is a party code or a review
    # slug, both of a strict pattern.
    environment = Environment(
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    return environment.from_string(source.read_text(encoding="utf-8"))


def readme_text(review: str, organiser: str) -> str:
    """The README of the bundle of review, signed by organiser (a party code)."""
    return _template().render(
        review=review,
        organiser=organiser,
        organiser_principal=principal(organiser),
        tab="\t",
    )
