"""Password hashing with scrypt (cryptography), and the rules a new password must meet."""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from zxcvbn import zxcvbn

MIN_LENGTH = 12
# zxcvbn's 0-4 scale; 3 is "safely unguessable" for an online attack, and its dictionaries
# reject the common passwords and their simple variations.
MIN_STRENGTH = 3
_R, _P, _LENGTH = 8, 1, 32


class WeakPassword(ValueError):
    """A password that does not meet the minimum rules."""


def check_password_rules(password: str, *, email: str = "") -> None:
    """Refuse short, common or easily guessed passwords (NIST SP 800-63B's advice)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > 1024:
        raise WeakPassword("a password may have at most 1024 characters")
    verdict = zxcvbn(password[:100], user_inputs=[email, *email.split("@")] if email else [])
    if verdict["score"] < MIN_STRENGTH:
        warning = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise WeakPassword(f"choose another password: {warning.rstrip('.').lower()}")


def hash_password(password: str, n: int = 2**15) -> str:
    """Return `scrypt$n$r$p$salt$hash`."""
    salt = secrets.token_bytes(16)
    digest = Scrypt(salt=salt, length=_LENGTH, n=n, r=_R, p=_P).derive(password.encode())
    encode = base64.b64encode
    return f"scrypt${n}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against its stored hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    kdf = Scrypt(salt=base64.b64decode(salt), length=_LENGTH, n=int(n), r=int(r), p=int(p))
    try:
        kdf.verify(password.encode(), base64.b64decode(digest))
    except InvalidKey:
        return False
    return True


def needs_rehash(stored: str, n: int) -> bool:
    """Whether a stored hash was made with a lower scrypt cost than n, or other parameters."""
    try:
        scheme, stored_n, r, p, _salt, _digest = stored.split("$")
        return scheme != "scrypt" or int(stored_n) < n or (int(r), int(p)) != (_R, _P)
    except ValueError:
        return True


def dummy_hash(n: int) -> str:
    """A hash to check against when the account does not exist, so both paths cost the same."""
    return hash_password(secrets.token_urlsafe(16), n)
