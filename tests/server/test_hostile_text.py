"""Text the server stores refuses what could act on a terminal or reorder what it shows, and
every pattern must match a whole value, not a prefix of it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema, ValidationError, validate

from server import schemas, schemas_keys
from server.cli import main
from server.db import db_session
from server.models import Comment, OfflineRecipient, Party, Review, User
from tests.server.review_fixtures import LAW_V1, ReviewWorld
from tests.support.api import server_cli

DOCUMENT = "/api/v1/parties/BLR/documents/export-law"
# What an attacker's title or message would carry: clear the screen, return to the start of the
# line, reverse the display order, a C1 CSI, NUL and DEL.
HOSTILE = {
    "ESC": "\x1b[2J",
    "CR": "\r",
    "RLO": "\u202e",
    "C1 CSI": "\x9b",
    "NUL": "\x00",
    "DEL": "\x7f",
    "TAB": "\t",
}
SINGLE_LINE_ONLY = {"LF": "\n"}


def _document_count(world: ReviewWorld) -> int:
    answer = world["own"].get(f"{DOCUMENT}/versions")
    return 0 if answer.status_code == 404 else len(answer.json)


def _put_document(world: ReviewWorld, field: str, value: str) -> Any:
    body = {"content": LAW_V1, "message": "draft", "title": "Export law", "language": "ru"}
    body[field] = f"Draft{value}law" if field != "language" else f"ru{value}"
    if world.versions:
        body["base"] = world.versions[-1]
    return world["own"].put(DOCUMENT, json=body)


def _create_review(world: ReviewWorld, field: str, value: str) -> Any:
    body = {"slug": "tashkent-2018", "title": "Tashkent 2018", "states": ["BLR"]}
    body[field] = f"{body[field]}{value}x"
    return world["organiser"].post("/api/v1/reviews", json=body)


def _comment(world: ReviewWorld, field: str, value: str) -> Any:
    version = world.push(LAW_V1)
    assert world.share(version).status_code == 201
    body = {
        "party": "BLR",
        "slug": "export-law",
        "version": version,
        "quote": "экспорт",
        "body": "Why?",
    }
    body[field] = f"Why{value}not"
    return world["peer"].post(world.url("/comments"), json=body)


def _edit_comment(world: ReviewWorld, field: str, value: str) -> Any:
    made = _comment(world, "body", " ")
    assert made.status_code == 201, made.json
    return world["peer"].patch(
        world.url(f"/comments/{made.json['id']}"), json={field: f"Why{value}not"}
    )


def _add_recipient(world: ReviewWorld, field: str, value: str) -> Any:
    body = {"recipient": "age1" + "q" * 58, "label": f"safe{value}Vienna"}
    return world["organiser"].post("/api/v1/parties/UNRCPD/recipients", json=body)


Writer = Callable[[ReviewWorld, str, str], Any]
# Every free-text field the API accepts, with whether it is a single line.
FIELDS: list[tuple[str, Writer, str, bool]] = [
    ("document title", _put_document, "title", True),
    ("document language", _put_document, "language", True),
    ("commit message", _put_document, "message", False),
    ("review slug", _create_review, "slug", True),
    ("review title", _create_review, "title", True),
    ("comment body", _comment, "body", False),
    ("comment block", _comment, "block", True),
    ("edited comment body", _edit_comment, "body", False),
    ("recipient label", _add_recipient, "label", True),
]
CASES = [
    pytest.param(writer, field, char, id=f"{what}-{name}")
    for what, writer, field, single in FIELDS
    for name, char in {**HOSTILE, **(SINGLE_LINE_ONLY if single else {})}.items()
]


def _stored_texts(app: Flask) -> list[str]:
    with app.app_context():
        session = db_session()
        texts = [r.slug + r.title for r in session.query(Review)]
        texts += [c.body + (c.block or "") for c in session.query(Comment)]
        texts += [r.label for r in session.query(OfflineRecipient)]
        return texts


@pytest.mark.parametrize(("writer", "field", "char"), CASES)
def test_each_text_field_refuses_control_and_bidi_characters(
    app: Flask, review_world: ReviewWorld, writer: Writer, field: str, char: str
) -> None:
    """422 naming the field, and nothing stored: no version, review, comment or edit."""
    versions_before = _document_count(review_world)
    answer = writer(review_world, field, char)
    assert answer.status_code == 422, answer.json
    assert answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"], answer.json
    # The refusal names the character by code point, never by echoing it.
    assert char not in str(answer.json)
    pushed = 1 if writer in (_comment, _edit_comment) else 0
    assert _document_count(review_world) == versions_before + pushed
    assert not [text for text in _stored_texts(app) if char in text]


def test_a_commit_message_keeps_its_lines_and_crlf_becomes_lf(review_world: ReviewWorld) -> None:
    """LF is the one line break a message or a comment holds; CR LF arrives as LF."""
    answer = review_world["own"].put(
        DOCUMENT, json={"content": LAW_V1, "message": "Create\r\n\r\nArticle 2 added.\n"}
    )
    assert answer.status_code == 201, answer.json
    logged = review_world["own"].get(f"{DOCUMENT}/versions").json
    assert logged[0]["message"].startswith("Create\n\nArticle 2 added.")
    assert "\r" not in logged[0]["message"]
    review_world.versions.append(answer.json["version"]["commit"])
    assert review_world.share(review_world.versions[-1]).status_code == 201
    made = review_world["peer"].post(
        review_world.url("/comments"),
        json={
            "party": "BLR",
            "slug": "export-law",
            "version": review_world.versions[-1],
            "quote": "экспорт",
            "body": "First line\r\nsecond line",
        },
    )
    assert made.status_code == 201, made.json
    assert made.json["body"] == "First line\nsecond line"


def test_an_attachment_name_is_stored_without_control_or_bidi_characters(
    review_world: ReviewWorld,
) -> None:
    """A file name is made safe rather than refused: what a browser or an OS gave is kept
    readable, and nothing in it acts on a terminal (docs/attachments.md)."""
    review_world.push(LAW_V1)
    answer = review_world["own"].post(
        f"{DOCUMENT}/attachments",
        query_string={"name": "annex\x1b[2J\r\u202e\x9bfdp.txt"},
        data=b"annex",
        content_type="text/plain",
    )
    assert answer.status_code == 201, answer.json
    name = answer.json["name"]
    assert name == "annex[2J fdp.txt"  # CR is whitespace: a space; the rest is gone
    listed = review_world["own"].get(f"{DOCUMENT}/attachments").json
    assert [a["name"] for a in listed] == [name]


# -- peerlex-server commands -------------------------------------------------------------------


def _run(app: Flask, *args: str, stdin: str = "") -> Any:
    data = str(app.extensions["peerlex.config"].data_dir)
    return server_cli(app).invoke(main, ["--data", data, *args], input=stdin)


@pytest.mark.parametrize("name", ["Evil\x1b[2J", "Evil\u202eState", "Evil\x9bState", "Evil\nX"])
def test_party_add_refuses_a_hostile_name(app: Flask, name: str) -> None:
    """`party add --name` says which option is wrong, and adds nothing."""
    result = _run(app, "party", "add", "EVL", "--name", name, "--kind", "state")
    assert result.exit_code == 2, result.output
    assert "--name" in result.output
    with app.app_context():
        assert db_session().query(Party).filter_by(code="EVL").count() == 0


@pytest.mark.parametrize(
    ("email", "name", "option"),
    [
        ("expert@evl.example", "Mallory\x1b]0;owned\x07", "--name"),
        ("expert@evl.example", "Mallory\u2067", "--name"),
        ("expert\x1b[2J@evl.example", "Mallory", "EMAIL"),
        ("expert\u202e@evl.example", "Mallory", "EMAIL"),
    ],
)
def test_user_add_refuses_a_hostile_name_or_email(
    app: Flask, email: str, name: str, option: str
) -> None:
    """`user add` refuses controls in the name or the email, and adds no user."""
    assert _run(app, "party", "add", "EVL", "--name", "Evil", "--kind", "state").exit_code == 0
    result = _run(
        app,
        "user",
        "add",
        email,
        "--party",
        "EVL",
        "--role",
        "expert",
        "--name",
        name,
        stdin="a long enough passphrase\na long enough passphrase\n",
    )
    assert result.exit_code == 2, result.output
    assert option in result.output
    with app.app_context():
        assert db_session().query(User).count() == 0


# -- whole-value patterns ----------------------------------------------------------------------


def test_language_must_be_a_whole_tag(review_world: ReviewWorld) -> None:
    """A language that merely starts like a tag is refused, not stored and echoed into pages."""
    answer = review_world["own"].put(
        DOCUMENT,
        json={"content": LAW_V1, "message": "m", "language": 'en" onmouseover="alert(1)'},
    )
    assert answer.status_code == 422
    assert "language" in answer.json["errors"]
    assert _document_count(review_world) == 0


SHA = "0123456789abcdef0123456789abcdef01234567"
RECIPIENT = "age1" + "q" * 58
# (schema, field, a value its pattern accepts); the same value with a suffix must be refused.
PATTERNS: list[tuple[type[Schema], str, Any]] = [
    (schemas.DocumentPutSchema, "base", SHA),
    (schemas.DocumentPutSchema, "language", "sr-Latn"),
    (schemas.VersionQuerySchema, "version", SHA),
    (schemas.ReviewCreateSchema, "slug", "dushanbe-2017"),
    (schemas.ReviewCreateSchema, "states", ["BLR"]),
    (schemas.ReviewCreateSchema, "organisers", ["UNRCPD"]),
    (schemas.ReviewCreateSchema, "observers", ["GOE"]),
    (schemas.ShareCreateSchema, "party", "BLR"),
    (schemas.ShareCreateSchema, "slug", "export-law"),
    (schemas.ShareCreateSchema, "version", SHA),
    (schemas.CommentCreateSchema, "party", "BLR"),
    (schemas.CommentCreateSchema, "slug", "export-law"),
    (schemas.CommentCreateSchema, "version", SHA),
    (schemas.CommentQuerySchema, "party", "BLR"),
    (schemas.CommentQuerySchema, "slug", "export-law"),
    (schemas.CommentQuerySchema, "version", SHA),
    (schemas.DiffQuerySchema, "from", SHA),
    (schemas.DiffQuerySchema, "to", SHA),
    (schemas.RecipientCreateSchema, "recipient", RECIPIENT),
    (schemas_keys.UserKeyCreateSchema, "party", "BLR"),
    (schemas.AttachmentUploadQuerySchema, "base", SHA),
    (schemas.AuditQuerySchema, "review", "dushanbe-2017"),
]


def _with_suffix(value: Any, suffix: str) -> Any:
    return [value[0] + suffix] if isinstance(value, list) else value + suffix


@pytest.mark.parametrize(("schema", "field", "good"), PATTERNS)
@pytest.mark.parametrize("suffix", ['" onmouseover="x', "\n", "/../x", "-x!"])
def test_every_pattern_matches_the_whole_value(
    schema: type[Schema], field: str, good: Any, suffix: str
) -> None:
    """The valid value passes its pattern; the same value with anything after it does not."""
    errors = schema().validate({field: good}, partial=True)
    assert field not in errors, errors
    with pytest.raises(ValidationError) as refused:
        schema().load({field: _with_suffix(good, suffix)}, partial=True)
    assert field in refused.value.messages


def _pattern_validators() -> list[tuple[str, str, object]]:
    """(schema, field as sent, validator) for every pattern check in server/schemas.py."""
    found = []
    for name in dir(schemas):
        schema = getattr(schemas, name)
        if not (isinstance(schema, type) and issubclass(schema, Schema)) or schema is Schema:
            continue
        for field_name, field in schema().fields.items():
            inner = getattr(field, "inner", None)
            for validator in [*field.validators, *(inner.validators if inner else [])]:
                if isinstance(getattr(validator, "regex", None), re.Pattern):
                    found.append((name, field.data_key or field_name, validator))
    return found


def test_no_schema_uses_a_prefix_pattern() -> None:
    """Every pattern validator in the API's schemas is a full match, and the table above
    covers each field that has one."""
    validators = _pattern_validators()
    assert validators
    assert not [v for v in validators if isinstance(v[2], validate.Regexp)]
    assert all(isinstance(v[2], schemas.FullMatch) for v in validators)
    covered = {(s.__name__, f) for s, f, _ in PATTERNS}
    # ApprovalCreateSchema is ShareCreateSchema by another name.
    covered |= {("ApprovalCreateSchema", f) for f in ("party", "slug", "version")}
    assert {(name, f) for name, f, _ in validators} <= covered


def test_the_openapi_document_anchors_its_patterns(client: Any) -> None:
    """The published patterns say the same as the checks: a whole value."""
    spec = client.get("/api/v1/openapi.json").json
    language = spec["components"]["schemas"]["DocumentPut"]["properties"]["language"]
    assert language["pattern"].startswith("^(?:")
    assert language["pattern"].endswith(")$")
