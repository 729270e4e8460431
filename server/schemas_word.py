"""Schemas of Word in and out: the query of a .docx import, and the formats of the exports."""

from __future__ import annotations

from marshmallow import fields, validate

from repo_store.names import SHA
from server.schemas import (
    DOCUMENT_KINDS,
    LANGUAGE,
    DiffQuerySchema,
    FullMatch,
    MultiLineText,
    StrictSchema,
    VersionQuerySchema,
    _multi_line,
    single_line,
)

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MEDIA_TYPE = "application/pdf"
# Says how many of the review's comments could not be set on their quoted words in a .docx.
NOT_PLACED_HEADER = "X-Peerlex-Comments-Not-Placed"


class DocxImportQuerySchema(StrictSchema):
    """What travels beside a .docx body: the message, and metadata that overrides the
    document's (an update) or the .docx's own (a new document)."""

    message = MultiLineText(required=True, validate=[validate.Length(min=1, max=5000), _multi_line])
    base = fields.String(
        load_default=None,
        validate=FullMatch(SHA, error="base must be a 40-character commit id"),
        metadata={"description": "the version edited from (or If-Match)"},
    )
    title = fields.String(
        load_default=None, validate=[validate.Length(min=1, max=500), single_line]
    )
    kind = fields.String(load_default=None, validate=validate.OneOf(DOCUMENT_KINDS))
    language = fields.String(
        load_default=None,
        validate=FullMatch(LANGUAGE, error="language must be a BCP 47 tag such as ru"),
    )
    name = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "the file name the kept original is stored under"},
    )


class DocumentQuerySchema(VersionQuerySchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "docx"]),
        metadata={"description": "docx: the version as a Word document"},
    )


class DiffFileQuerySchema(DiffQuerySchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "unified", "html", "docx", "pdf"]),
        metadata={
            "description": "docx: Word with tracked changes; pdf: the printed redline "
            "(both whole, not in pages)"
        },
    )
    review = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "with docx or pdf: that review's comments on these versions, "
            "as Word comments or numbered notes"
        },
    )
