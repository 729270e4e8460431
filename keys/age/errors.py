"""Typed errors raised while reading, writing and decrypting age files."""


class AgeError(Exception):
    """An age file or key could not be read, written or decrypted."""


class KeyFormatError(AgeError):
    """A recipient, identity or identity file is not in the expected encoding."""


class HeaderError(AgeError):
    """The header is malformed, non-canonical, or its MAC does not verify."""


class NoIdentityMatched(AgeError):
    """None of the given identities can unwrap the file key of this file."""


class PayloadError(AgeError):
    """The encrypted payload is truncated, reordered, altered or has trailing data."""
