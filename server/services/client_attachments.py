"""Attachments a delegate encrypts on their own machine, for a State that holds its own keys.

The server names the document's age recipients, checks that an upload is a well-formed age
file with one X25519 stanza per recipient (it can check no more: it holds no key), keeps it
aside, and answers a signing request for the commit that records it. The attachment exists
once that signature is accepted; an unsigned one is swept away when its request expires. A
re-wrap for new recipients is recorded the same way, and must keep the payload byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from sqlalchemy import select

from keys.age.x25519 import recipient_string
from repo_store.attachments import (
    AttachmentRecord,
    get_attachment,
    new_attachment_record,
    new_pointer,
    rewrapped_pointer,
    safe_file_name,
)
from repo_store.blobs import StagedBlob
from repo_store.commits import Identity, PreparedCommit
from server.db import db_session
from server.models import BundleRewrap, Party, Review, Share, User
from server.permissions import Access, document_access, review_organisations
from server.services import audit, signing_requests
from server.services.attachments import attachable, blob_store, entitled_parties
from server.services.context import services
from server.services.documents import NOT_FOUND
from server.services.errors import Conflict, Invalid, NotFound
from server.services.parties import find_party
from server.services.recipients import encryption_recipients, recipients_of
from server.services.signing_requests import IssuedRequest

ATTACHMENT = "attachment"
# A staged upload outlives its request by a minute, then any later upload sweeps it away.
STAGED_SECONDS = signing_requests.LIFETIME.total_seconds() + 60


def holds_own_keys(code: str) -> bool:
    """Whether the party's delegates encrypt and sign its attachments themselves."""
    return find_party(code).holds_own_keys


def _reviews_of(code: str, slug: str) -> list[Review]:
    """The reviews the document is shared into."""
    query = select(Review).join(Share).where(Share.party.has(code=code), Share.slug == slug)
    return list(db_session().scalars(query.distinct().order_by(Review.id)))


def document_recipients(user: User, code: str, slug: str) -> list[str]:
    """Whom the document's attachments are encrypted to: the owner, every party of a review it
    is shared into, and those reviews' organisers' offline recipients."""
    _writer_of(user, code)
    reviews = _reviews_of(code, slug)
    organisations = sorted({org for review in reviews for org in review_organisations(review)})
    found = {
        recipient_string(key)
        for party in entitled_parties(code, slug)
        for key in encryption_recipients(party)
    }
    return sorted(found | set(recipients_of(organisations)))


def _writer_of(user: User, code: str) -> Party:
    party = find_party(code)
    if Access.WRITE not in document_access(user, code):
        raise NotFound(NOT_FOUND)
    return party


def _self_custody(party: Party) -> None:
    if not party.holds_own_keys:
        raise Conflict(
            f"{party.code}'s attachments are encrypted by the server: upload the file itself",
            "server-custody",
        )


def upload_encrypted(
    user: User,
    code: str,
    slug: str,
    src: BinaryIO,
    *,
    name: str,
    media_type: str | None,
    base: str | None,
) -> IssuedRequest:
    """Keep an age file encrypted by the delegate and ask them to sign its attachment."""
    party = attachable(user, code, slug, base)
    _self_custody(party)
    store = services().store
    recipients = document_recipients(user, code, slug)
    with _staged(src, len(recipients)) as staged:
        record = new_attachment_record(
            name=name,
            blob=staged.blob,
            recipients=entitled_parties(code, slug),
            uploaded_by=user.email,
            media_type=media_type,
        )
        files, precondition = new_pointer(store, code, slug, record)
        message = f"Attach {safe_file_name(name)} to {slug}"
        prepared = _prepare(user, party, slug, files, precondition, message)
        return _issue(user, party, prepared, staged.name, record, "attachment.upload")


def rewrap_encrypted(
    user: User, code: str, slug: str, attachment_id: str, src: BinaryIO
) -> IssuedRequest:
    """Keep an attachment re-wrapped by its owner for the document's recipients now, and ask
    them to sign the commit that records it."""
    party = _writer_of(user, code)
    _self_custody(party)
    store = services().store
    record = get_attachment(store, code, slug, attachment_id)
    recipients = document_recipients(user, code, slug)
    with _staged(src, len(recipients), same_payload_as=record.sha256) as staged:
        wanted = entitled_parties(code, slug)
        new = record.rewrapped(staged.blob, wanted)
        files, precondition = rewrapped_pointer(
            store, code, slug, attachment_id, new, record.sha256
        )
        message = f"Share attachment {attachment_id} of {slug} with {', '.join(wanted)}"
        prepared = _prepare(user, party, slug, files, precondition, message)
        return _issue(user, party, prepared, staged.name, new, "attachment.reshare")


@contextmanager
def _staged(
    src: BinaryIO, stanzas: int, *, same_payload_as: str | None = None
) -> Iterator[StagedBlob]:
    """An uploaded age file, staged for the block and discarded if the block fails; a re-wrap
    (same_payload_as: the stored blob it re-wraps) must keep the payload byte for byte."""
    blobs = blob_store()
    blobs.sweep_staged(STAGED_SECONDS)
    limit = services().config.max_attachment_bytes
    staged = blobs.stage(src, max_bytes=limit, stanzas=stanzas)
    try:
        if same_payload_as is not None and not blobs.same_payload(staged.name, same_payload_as):
            raise Invalid(
                "a re-wrap makes the header anew and keeps the payload: this payload differs",
                "payload-changed",
            )
        yield staged
    except BaseException:
        blobs.discard_staged(staged.name)
        raise


def _prepare(
    user: User, party: Party, slug: str, files: dict[str, bytes], precondition: Any, message: str
) -> PreparedCommit:
    return services().store.prepare_commit(
        party.code,
        slug,
        files,
        author=Identity(user.name or user.email, user.email),
        committer_name=party.name,
        message=message,
        precondition=precondition,
    )


def _issue(
    user: User,
    party: Party,
    prepared: PreparedCommit,
    staged: str,
    record: AttachmentRecord,
    action: str,
) -> IssuedRequest:
    return signing_requests.issue_commit(
        user,
        party,
        ATTACHMENT,
        prepared,
        {"staged": staged, "sha256": record.sha256, "attachment": record.id, "action": action},
    )


def offline_copies(user: User, code: str, slug: str, attachment_id: str) -> list[dict[str, Any]]:
    """For each review the document is shared into, the offline recipients its final bundle
    encrypts attachments to, and whether this attachment's copy for them is stored."""
    _writer_of(user, code)
    record = get_attachment(services().store, code, slug, attachment_id)
    copies = []
    for review in _reviews_of(code, slug):
        recipients = recipients_of(review_organisations(review))
        if recipients:
            found = _stored_copy(record.sha256, recipients)
            copies.append({"review": review.slug, "recipients": recipients, "stored": found})
    return copies


def store_offline_copy(
    user: User, code: str, slug: str, attachment_id: str, rid: str, src: BinaryIO
) -> dict[str, Any]:
    """Keep the owner's copy of an attachment re-wrapped for a review's offline recipients: the
    final bundle carries it (the server cannot make it for a State that holds its own keys)."""
    party = _writer_of(user, code)
    _self_custody(party)
    record = get_attachment(services().store, code, slug, attachment_id)
    review = next((r for r in _reviews_of(code, slug) if rid in (r.slug, str(r.id))), None)
    if review is None:
        raise NotFound("the document is not shared into such a review")
    recipients = recipients_of(review_organisations(review))
    if not recipients:
        raise Conflict(
            "the review's organisers registered no offline recipient", "no-offline-recipient"
        )
    with _staged(src, len(recipients), same_payload_as=record.sha256) as staged:
        blob_store().place_staged(staged.name, staged.blob.sha256)
    session = db_session()
    key = ",".join(recipients)
    row = session.get(BundleRewrap, (record.sha256, key))
    if row is None:
        session.add(
            BundleRewrap(
                source_sha256=record.sha256, recipients=key, result_sha256=staged.blob.sha256
            )
        )
    else:
        row.result_sha256 = staged.blob.sha256
    audit.record(
        user, "attachment.offline_copy", f"{code}/{slug}/{attachment_id}", review_id=review.id
    )
    session.commit()
    return {"review": review.slug, "recipients": recipients, "stored": True}


def _stored_copy(source: str, recipients: list[str]) -> bool:
    row = db_session().get(BundleRewrap, (source, ",".join(recipients)))
    return row is not None and blob_store().exists(row.result_sha256)


def waiting_for(code: str, slug: str, record: AttachmentRecord) -> list[str]:
    """The parties entitled to an attachment that it is not yet encrypted to: for a State that
    holds its own keys, those wait for the owner's client to re-wrap it."""
    return sorted(set(entitled_parties(code, slug)) - set(record.recipients))
