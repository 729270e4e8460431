"""X25519 recipients and identities of the age format: key strings and file-key wrapping."""

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.age.bech32 import bech32_decode, bech32_encode
from keys.age.errors import AgeError, HeaderError, KeyFormatError
from keys.age.header import Stanza, decode_base64, encode_base64

STANZA_TYPE = "X25519"
_RECIPIENT_HRP = "age"
_IDENTITY_HRP = "age-secret-key-"
_WRAP_INFO = b"age-encryption.org/v1/X25519"
_ZERO_NONCE = bytes(12)
FILE_KEY_SIZE = 16


def generate_x25519_identity() -> X25519PrivateKey:
    """Create a new random X25519 identity."""
    return X25519PrivateKey.generate()


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def recipient_string(public_key: X25519PublicKey) -> str:
    """Spell a public key as an age recipient, `age1...`."""
    return bech32_encode(_RECIPIENT_HRP, _raw_public(public_key))


def identity_string(private_key: X25519PrivateKey) -> str:
    """Spell a private key as an age identity, `AGE-SECRET-KEY-1...`."""
    return bech32_encode(_IDENTITY_HRP, private_key.private_bytes_raw()).upper()


def parse_recipient(text: str) -> X25519PublicKey:
    """Read an `age1...` recipient string."""
    # Like age, accept recipients in lower case only and identities in upper case only.
    if not text.startswith("age1"):
        raise KeyFormatError(f"not an age X25519 recipient: {text[:80]!r}")
    try:
        hrp, data = bech32_decode(text)
    except KeyFormatError as error:
        raise KeyFormatError(f"not an age X25519 recipient: {text[:80]!r}: {error}") from None
    if hrp != _RECIPIENT_HRP or len(data) != 32:
        raise KeyFormatError(f"not an age X25519 recipient: {text[:80]!r}")
    return X25519PublicKey.from_public_bytes(data)


def parse_identity(text: str) -> X25519PrivateKey:
    """Read an `AGE-SECRET-KEY-1...` identity string."""
    # The message never echoes the text: it is secret.
    if not text.startswith("AGE-SECRET-KEY-1"):
        raise KeyFormatError("not an age X25519 identity")
    hrp, data = bech32_decode(text)
    if hrp != _IDENTITY_HRP or len(data) != 32:
        raise KeyFormatError("not an age X25519 identity")
    return X25519PrivateKey.from_private_bytes(data)


def _wrap_key(shared_secret: bytes, share: bytes, recipient: bytes) -> ChaCha20Poly1305:
    if not any(shared_secret):
        raise HeaderError("X25519 shared secret is all zero (low-order point)")
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=share + recipient, info=_WRAP_INFO
    ).derive(shared_secret)
    return ChaCha20Poly1305(key)


def _exchange(private_key: X25519PrivateKey, public_key: X25519PublicKey) -> bytes:
    try:
        return private_key.exchange(public_key)
    except ValueError:
        # OpenSSL refuses to return the all-zero secret of a low-order point.
        raise HeaderError("X25519 shared secret is all zero (low-order point)") from None


def wrap_file_key(file_key: bytes, recipient: X25519PublicKey) -> Stanza:
    """Wrap file_key for one recipient under a fresh ephemeral key."""
    ephemeral = X25519PrivateKey.generate()
    share = _raw_public(ephemeral.public_key())
    try:
        secret = _exchange(ephemeral, recipient)
    except HeaderError:
        raise AgeError("invalid X25519 recipient (low-order point)") from None
    body = _wrap_key(secret, share, _raw_public(recipient)).encrypt(_ZERO_NONCE, file_key, None)
    return Stanza(STANZA_TYPE, (encode_base64(share).decode("ascii"),), body)


def check_stanza(stanza: Stanza) -> bytes:
    """Validate the shape of an X25519 stanza and return its ephemeral share."""
    if len(stanza.args) != 1:
        raise HeaderError("X25519 stanza must have exactly one argument")
    share = decode_base64(stanza.args[0].encode("ascii"))
    if len(share) != 32:
        raise HeaderError("X25519 ephemeral share must be 32 bytes")
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError("X25519 stanza body must be 32 bytes")
    return share


def unwrap_file_key(stanza: Stanza, identity: X25519PrivateKey) -> bytes | None:
    """Return the file key if the stanza was made for identity, else None."""
    share = check_stanza(stanza)
    secret = _exchange(identity, X25519PublicKey.from_public_bytes(share))
    aead = _wrap_key(secret, share, _raw_public(identity.public_key()))
    try:
        return aead.decrypt(_ZERO_NONCE, stanza.body, None)
    except InvalidTag:
        # Not an error: the stanza is simply addressed to someone else.
        return None
