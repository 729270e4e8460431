"""A typed client for the peerlex HTTP API: Bearer tokens, typed errors, streamed transfers."""

from __future__ import annotations

import mimetypes
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from clients.errors import ApiError
from clients.models import (
    Approval,
    Attachment,
    BundleInfo,
    Comment,
    Document,
    DocumentSummary,
    FactorList,
    Me,
    OfflineCopy,
    Party,
    Recipient,
    Review,
    Share,
    SigningRequest,
    Token,
    TotpEnrolment,
    UserKey,
    Version,
)
from clients.sealed import is_sealed, open_sealed
from clients.second_factors import (
    checked_enrolment,
    checked_factors,
    checked_recovery_codes,
    step_up_header,
)
from clients.transport import CHUNK, Progress, Query
from clients.word import WordTransfers

# A signing request's id: 256 random bits, base64url without padding.
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{43}")
REVIEW_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _path(*parts: str) -> str:
    return "/".join(quote(part, safe="") for part in parts)


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that were given: a member left as None is not sent at all."""
    return {name: value for name, value in fields.items() if value is not None}


def _file_chunks(handle: BinaryIO, size: int, progress: Progress | None) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        if progress is not None:
            progress(len(chunk), size)
        yield chunk


def _offline_copy(item: Any) -> bool:
    """Whether an item of the server's list of offline copies is well formed: its review is a
    slug (it goes back to the server in a query), its recipients strings."""
    return (
        isinstance(item, dict)
        and isinstance(item.get("review"), str)
        and REVIEW_SLUG.fullmatch(item["review"]) is not None
        and isinstance(item.get("stored"), bool)
        and isinstance(item.get("recipients"), list)
        and all(isinstance(r, str) for r in item["recipients"])
    )


def _signing_request(answer: Any) -> SigningRequest:
    """A signing request as the server answered it, checked for shape: its id goes into a URL."""
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("payload"), str)
        or not isinstance(answer.get("expires_at"), str)
        or not isinstance(answer.get("id"), str)
        or not REQUEST_ID.fullmatch(answer["id"])
    ):
        raise ApiError(200, "Bad Response", "the server's signing request is malformed")
    return cast(SigningRequest, answer)


class Client(WordTransfers):
    """One user's connection to a peerlex server; every method is one API call."""

    # -- sessions -------------------------------------------------------------------------

    def login(self, email: str, password: str, code: str | None = None) -> Token:
        """Exchange email and password (and a second factor's code, once the account has one)
        for an API token, and use it from now on."""
        credentials = {"email": email, "password": password}
        if code is not None:
            credentials["code"] = code
        token = cast(Token, self._json("POST", "auth/tokens", data=credentials))
        self.token = token["token"]
        return token

    def logout(self) -> None:
        """Revoke the token this client uses."""
        self._json("DELETE", "auth/tokens")
        self.token = None

    def logout_everywhere(self) -> None:
        """End every session and revoke every API token of this user, this one included."""
        self._json("POST", "auth/logout-everywhere")
        self.token = None

    # -- second factors -------------------------------------------------------------------

    def enrol_totp(self, label: str = "") -> TotpEnrolment:
        """Start enrolling an authenticator app: its secret and otpauth URI (shown once)."""
        return checked_enrolment(self._json("POST", "me/mfa/totp", data={"label": label}))

    def confirm_totp(self, code: str) -> list[str]:
        """Confirm the authenticator waiting with its code; answers the recovery codes."""
        answer = self._json("POST", "me/mfa/totp/confirm", data={"code": code})
        return checked_recovery_codes(answer)

    def factors(self) -> FactorList:
        """Your second factors, pending ones too, and how many recovery codes are left."""
        return checked_factors(self._json("GET", "me/mfa"))

    def remove_factor(self, factor_id: int, code: str) -> None:
        """Remove one of your factors, with a fresh code (any factor's, or a recovery code)."""
        self._json("DELETE", _path("me", "mfa", str(factor_id)), data={"code": code})

    def health(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._json("GET", "healthz"))

    def me(self) -> Me:
        return cast(Me, self._json("GET", "me"))

    def parties(self) -> list[Party]:
        return cast(list[Party], self._json("GET", "parties"))

    def allowed_signers(self) -> str:
        return self._text("allowed_signers")

    # -- documents ------------------------------------------------------------------------

    def documents(self, party: str) -> list[DocumentSummary]:
        return cast(list[DocumentSummary], self._json("GET", _path("parties", party, "documents")))

    def document(self, party: str, slug: str, version: str | None = None) -> Document:
        path = _path("parties", party, "documents", slug)
        return cast(Document, self._json("GET", path, query={"version": version}))

    def put_document(
        self,
        party: str,
        slug: str,
        content: str,
        message: str,
        *,
        base: str | None = None,
        title: str | None = None,
        kind: str | None = None,
        language: str | None = None,
    ) -> DocumentSummary:
        """Create a document (no base) or save a new version edited from base."""
        data = _given(
            content=content, message=message, base=base, title=title, kind=kind, language=language
        )
        path = _path("parties", party, "documents", slug)
        return cast(DocumentSummary, self._json("PUT", path, data=data))

    def request_version(self, party: str, slug: str, data: dict[str, Any]) -> SigningRequest:
        """Ask the server to build a version's commit for you to sign (same body as PUT)."""
        path = _path("parties", party, "documents", slug, "versions", "requests")
        return _signing_request(self._json("POST", path, data=_given(**data)))

    def sign_version(
        self, party: str, slug: str, request_id: str, signature: str
    ) -> DocumentSummary:
        """Answer a version's signing request with your signature; the version is written."""
        path = _path("parties", party, "documents", slug, "versions", "requests", request_id)
        return cast(DocumentSummary, self._json("POST", path, data={"signature": signature}))

    def versions(self, party: str, slug: str) -> list[Version]:
        path = _path("parties", party, "documents", slug, "versions")
        return cast(list[Version], self._json("GET", path))

    def diff(
        self,
        party: str,
        slug: str,
        *,
        old: str | None = None,
        new: str | None = None,
        fmt: str = "json",
        page: int | None = None,
    ) -> Any:
        """The diff as JSON data (fmt json) or as text (unified, html).

        The server answers JSON and html in pages. JSON without `page` is every page, fetched
        in turn and joined into one comparison; html is one page, the first by default.
        """
        path = _path("parties", party, "documents", slug, "diff")
        query: dict[str, str | int | None] = {"from": old, "to": new, "format": fmt, "page": page}
        if fmt != "json":
            return self._text(path, query)
        first = self._json("GET", path, query=query)
        if page is not None:
            return first
        # The later pages of the very versions the first one resolved.
        query.update({"from": first["from"], "to": first["to"]})
        blocks = list(first["blocks"])
        for number in range(2, int(first.get("pages", 1)) + 1):
            blocks += self._json("GET", path, query={**query, "page": number})["blocks"]
        paging = ("page", "pages", "first_block")
        return {**{k: v for k, v in first.items() if k not in paging}, "blocks": blocks}

    # -- attachments ----------------------------------------------------------------------

    def upload_attachment(
        self,
        party: str,
        slug: str,
        source: Path,
        *,
        name: str | None = None,
        media_type: str | None = None,
        base: str | None = None,
        progress: Progress | None = None,
    ) -> Attachment:
        """Stream a file as an attachment of a document (never read into memory whole)."""
        source = Path(source)
        name = name or source.name
        media_type = media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        path = _path("parties", party, "documents", slug, "attachments")
        record = self._upload(
            path,
            source,
            {"Content-Type": media_type},
            query={"name": name, "base": base},
            progress=progress,
        )
        return cast(Attachment, record)

    def document_recipients(self, party: str, slug: str) -> list[str]:
        """The age recipients to encrypt the document's attachments to (its writers ask)."""
        path = _path("parties", party, "documents", slug, "recipients")
        answer = self._json("GET", path)
        found = answer.get("recipients") if isinstance(answer, dict) else None
        if not isinstance(found, list) or not all(isinstance(r, str) for r in found):
            raise ApiError(200, "Bad Response", "the server's list of recipients is malformed")
        return found

    def upload_encrypted(
        self,
        party: str,
        slug: str,
        encrypted: Path,
        *,
        name: str,
        media_type: str,
        base: str | None = None,
        progress: Progress | None = None,
    ) -> SigningRequest:
        """Send an age file encrypted here as an attachment; answers the commit to sign."""
        path = _path("parties", party, "documents", slug, "attachments")
        headers = {"Content-Type": "application/octet-stream", "X-Media-Type": media_type}
        return _signing_request(
            self._upload(
                path, encrypted, headers, query={"name": name, "base": base}, progress=progress
            )
        )

    def rewrap_encrypted(
        self, party: str, slug: str, attachment_id: str, encrypted: Path
    ) -> SigningRequest:
        """Send an attachment re-wrapped here for new recipients; answers the commit to sign."""
        path = _path("parties", party, "documents", slug, "attachments", attachment_id, "rewrap")
        headers = {"Content-Type": "application/octet-stream"}
        return _signing_request(self._upload(path, encrypted, headers))

    def _upload(
        self,
        path: str,
        source: Path,
        headers: dict[str, str],
        *,
        query: Query | None = None,
        progress: Progress | None = None,
    ) -> Any:
        with source.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return self._json(
                "POST",
                path,
                query=query,
                body=_file_chunks(handle, size, progress),
                headers={**headers, "Content-Length": str(size)},
            )

    def attachments(self, party: str, slug: str) -> list[Attachment]:
        path = _path("parties", party, "documents", slug, "attachments")
        return cast(list[Attachment], self._json("GET", path))

    def download_attachment(
        self,
        party: str,
        slug: str,
        attachment_id: str,
        dest: Path,
        *,
        progress: Progress | None = None,
        identities: Sequence[X25519PrivateKey] = (),
    ) -> int:
        """Stream an attachment into dest (whole or not at all); returns its size.

        The server decrypts it for a reader whose party's keys it holds. A reader whose State
        holds its own keys gets it sealed, and it is opened here with identities.
        """
        dest = Path(dest)
        path = _path("parties", party, "documents", slug, "attachments", attachment_id)
        # Fetched beside dest first: whether it is plaintext is known only from the answer.
        with tempfile.TemporaryDirectory(prefix=".peerlex-", dir=dest.parent) as aside:
            fetched = Path(aside) / "attachment"
            size, headers = self._download_answer(path, fetched, progress)
            if is_sealed(headers):
                return open_sealed(fetched, dest, identities)
            os.replace(fetched, dest)
        return size

    def download_sealed(self, party: str, slug: str, attachment_id: str, dest: Path) -> None:
        """Fetch an attachment as stored, sealed (a State that holds its own keys): the age
        file whose header its owner re-wraps."""
        path = _path("parties", party, "documents", slug, "attachments", attachment_id)
        _size, headers = self._download_answer(path, dest, None)
        if not is_sealed(headers):
            raise ApiError(200, "Bad Response", "the server did not send the stored age file")

    def offline_copies(self, party: str, slug: str, attachment_id: str) -> list[OfflineCopy]:
        """Each review's offline recipients for the attachment's copy in its final bundle."""
        path = _path(
            "parties", party, "documents", slug, "attachments", attachment_id, "offline-copies"
        )
        answer = self._json("GET", path)
        if not isinstance(answer, list) or not all(_offline_copy(item) for item in answer):
            raise ApiError(200, "Bad Response", "the server's list of offline copies is malformed")
        return cast(list[OfflineCopy], answer)

    def store_offline_copy(
        self, party: str, slug: str, attachment_id: str, review: str, encrypted: Path
    ) -> OfflineCopy:
        """Send the attachment re-wrapped here for a review's offline recipients."""
        path = _path(
            "parties", party, "documents", slug, "attachments", attachment_id, "offline-copies"
        )
        headers = {"Content-Type": "application/octet-stream"}
        return cast(OfflineCopy, self._upload(path, encrypted, headers, query={"review": review}))

    def recipients(self, party: str) -> list[Recipient]:
        return cast(list[Recipient], self._json("GET", _path("parties", party, "recipients")))

    def add_recipient(self, party: str, recipient: str, label: str = "") -> Recipient:
        path = _path("parties", party, "recipients")
        data = {"recipient": recipient, "label": label}
        return cast(Recipient, self._json("POST", path, data=data))

    # -- users' own keys ------------------------------------------------------------------

    def add_key(self, public_key: str, party: str | None = None) -> UserKey:
        """Register one OpenSSH public key line as yours (for party, or your first)."""
        data = _given(public_key=public_key, party=party)
        return cast(UserKey, self._json("POST", "me/keys", data=data))

    def keys(self) -> list[UserKey]:
        """Your keys, revoked ones included."""
        return cast(list[UserKey], self._json("GET", "me/keys")["keys"])

    def party_keys(self, party: str) -> list[UserKey]:
        """A party's public key history: every key its members registered."""
        return cast(list[UserKey], self._json("GET", _path("parties", party, "keys"))["keys"])

    def revoke_key(self, fingerprint: str) -> UserKey:
        return cast(UserKey, self._json("DELETE", _path("me", "keys", fingerprint)))

    # -- reviews --------------------------------------------------------------------------

    def reviews(self) -> list[Review]:
        return cast(list[Review], self._json("GET", "reviews"))

    def review(self, rid: str) -> Review:
        return cast(Review, self._json("GET", _path("reviews", rid)))

    def create_review(
        self,
        slug: str,
        title: str,
        states: list[str],
        *,
        organisers: list[str] | None = None,
        observers: list[str] | None = None,
    ) -> Review:
        data = {
            "slug": slug,
            "title": title,
            "states": states,
            "organisers": organisers or [],
            "observers": observers or [],
        }
        return cast(Review, self._json("POST", "reviews", data=data))

    def set_review_state(self, rid: str, state: str) -> Review:
        """Move a review on: to `agreement`, then `closed` (organisers)."""
        return cast(Review, self._json("PATCH", _path("reviews", rid), data={"state": state}))

    def share(self, rid: str, party: str, slug: str, version: str) -> Share:
        data = {"party": party, "slug": slug, "version": version}
        return cast(Share, self._json("POST", _path("reviews", rid, "shares"), data=data))

    def shares(self, rid: str) -> list[Share]:
        return cast(list[Share], self._json("GET", _path("reviews", rid, "shares")))

    def comments(
        self,
        rid: str,
        *,
        party: str | None = None,
        slug: str | None = None,
        version: str | None = None,
        status: str | None = None,
    ) -> list[Comment]:
        """The review's comments; with party, slug and version, anchored on that version."""
        query = {"party": party, "slug": slug, "version": version, "status": status}
        return cast(
            list[Comment], self._json("GET", _path("reviews", rid, "comments"), query=query)
        )

    def comment(
        self,
        rid: str,
        body: str,
        *,
        party: str | None = None,
        slug: str | None = None,
        version: str | None = None,
        quote: str | None = None,
        parent: int | None = None,
    ) -> Comment:
        """Comment on a quote of a shared version, or reply to a comment (parent)."""
        data = _given(
            body=body, party=party, slug=slug, version=version, quote=quote, parent=parent
        )
        return cast(Comment, self._json("POST", _path("reviews", rid, "comments"), data=data))

    def update_comment(
        self, rid: str, comment_id: int, *, status: str | None = None, body: str | None = None
    ) -> Comment:
        data = _given(status=status, body=body)
        path = _path("reviews", rid, "comments", str(comment_id))
        return cast(Comment, self._json("PATCH", path, data=data))

    def approve(
        self, rid: str, party: str, slug: str, version: str, *, code: str | None = None
    ) -> Approval:
        """Approve a version (heads); code is a fresh second factor's, if the server asks."""
        data = {"party": party, "slug": slug, "version": version}
        path = _path("reviews", rid, "approvals")
        return cast(Approval, self._json("POST", path, data=data, headers=step_up_header(code)))

    def request_approval(
        self, rid: str, party: str, slug: str, version: str, *, code: str | None = None
    ) -> SigningRequest:
        """Ask the server for the statement approving a version, for you to sign."""
        data = {"party": party, "slug": slug, "version": version}
        path = _path("reviews", rid, "approvals", "requests")
        return _signing_request(self._json("POST", path, data=data, headers=step_up_header(code)))

    def sign_approval(self, rid: str, request_id: str, signature: str) -> Approval:
        """Answer an approval's signing request with your signature; the approval is made."""
        path = _path("reviews", rid, "approvals", "requests", request_id)
        return cast(Approval, self._json("POST", path, data={"signature": signature}))

    def approvals(self, rid: str) -> list[Approval]:
        return cast(list[Approval], self._json("GET", _path("reviews", rid, "approvals")))

    def build_bundle(self, rid: str, *, code: str | None = None) -> BundleInfo:
        """Build the signed final bundle (organisers, once every shared document is approved);
        code is a fresh second factor's, if the server asks."""
        path = _path("reviews", rid, "bundle")
        return cast(BundleInfo, self._json("POST", path, headers=step_up_header(code)))

    def download_bundle(self, rid: str, dest: Path, *, progress: Progress | None = None) -> int:
        """Stream the final bundle into dest; returns its size."""
        return self._download(_path("reviews", rid, "bundle"), dest, progress)
