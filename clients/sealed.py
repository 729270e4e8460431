"""Attachments a server answers sealed: the stored age file, for a reader whose State holds its
own keys, opened here with the delegate's own identity (docs/attachments.md).

The answer is treated as hostile: it is opened only when the server says it is sealed and its
bytes begin as an age v1 file does; anything else is refused, never written out as plaintext.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from keys.age import AgeError, NoIdentityMatched, decrypt
from keys.files import replaced_whole

ENCRYPTION_HEADER = "X-Peerlex-Encryption"
AGE_MAGIC = b"age-encryption.org/v1\n"


class SealedAttachmentError(Exception):
    """A sealed attachment could not be opened: no identity was given, none opens it, or the
    server's answer is not the age file it says it is."""


class NoIdentityGiven(SealedAttachmentError):
    """The server sent the attachment sealed, and no identity was given to open it."""


def is_sealed(headers: Mapping[str, str]) -> bool:
    """Whether the server says that its answer is the stored age file."""
    return headers.get(ENCRYPTION_HEADER, "").strip().lower() == "age"


def open_sealed(sealed: Path, dest: Path, identities: Sequence[X25519PrivateKey]) -> int:
    """Decrypt the age file sealed into dest (whole or not at all); return the plaintext size."""
    if not identities:
        raise NoIdentityGiven(
            "the attachment came sealed (age-encrypted to your State's own recipients); "
            "give the age identity that opens it with --identity FILE"
        )
    with sealed.open("rb") as src:
        if src.read(len(AGE_MAGIC)) != AGE_MAGIC:
            raise SealedAttachmentError(
                "the server said the attachment is age-encrypted, but its answer is not an age "
                "file; nothing was written"
            )
        src.seek(0)
        try:
            with replaced_whole(dest, durable=False) as out:
                return decrypt(src, out, identities)
        except NoIdentityMatched as exc:
            raise SealedAttachmentError(
                "none of the identities given opens the attachment; nothing was written"
            ) from exc
        except AgeError as exc:
            raise SealedAttachmentError(
                f"the sealed attachment does not open ({exc}); nothing was written"
            ) from exc
