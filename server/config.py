"""Deployment configuration: one frozen object read once from the environment."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_MAX_BODY = 16 * 1024 * 1024
DEFAULT_MAX_ATTACHMENT = 512 * 1024 * 1024
# What one document may cost (docs/deployment.md, "Limits"): a long national control list has
# about 10,000 entries of a few blocks each.
DEFAULT_MAX_BLOCKS = 100_000
DEFAULT_PAGE_BLOCKS = 500
DEFAULT_PAGE_CHARS = 200_000
DEFAULT_DIFF_CACHE = 512 * 1024 * 1024
DEFAULT_DIFF_MEMORY = 1024 * 1024 * 1024
DEFAULT_SESSION_IDLE_MINUTES = 30
DEFAULT_SESSION_MAX_HOURS = 12

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Who must enrol a second factor (PEERLEX_REQUIRE_MFA): "roles" are the heads of delegation,
# organisers and administrators; "all" is everyone; "none" is for test and demo deployments.
REQUIRE_MFA_CHOICES = ("roles", "all", "none")
# Without PEERLEX_PUBLIC_URL, security keys work for a browser at http://localhost:PORT only:
# WebAuthn takes no IP address as its relying party id (docs/decisions.md).
LOCAL_RP_ID = "localhost"
LOCAL_ORIGIN = re.compile(r"https?://localhost(:[0-9]{1,5})?")


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = environ.get(name) or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from exc


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _int(environ, name, default)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


def parse_networks(value: str, name: str = "PEERLEX_TRUSTED_PROXIES") -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks; a bad one stops the start, never skipped."""
    networks = []
    for item in value.split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"{name}: {item.strip()!r} is no address or network") from exc
    return tuple(networks)


def parse_public_url(value: str) -> str:
    """The address browsers use for this deployment, as an origin: scheme, host and port.

    Its host becomes the WebAuthn relying party id, so it must be a name, never an address.
    """
    parts = urlsplit(value.strip())
    host = parts.hostname or ""
    refusal = None
    if parts.scheme not in ("https", "http") or not host:
        refusal = "must be an http(s) URL such as https://peerlex.example.org"
    elif parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        refusal = "must be the site's root, with no path, query or user"
    elif re.fullmatch(r"[0-9.]+|.*:.*", host):
        refusal = "must name its host, not an IP address (WebAuthn refuses addresses)"
    elif parts.scheme == "http" and host != LOCAL_RP_ID:
        refusal = "must be https unless its host is localhost (WebAuthn needs a secure origin)"
    if refusal is not None:
        raise ValueError(f"PEERLEX_PUBLIC_URL {refusal}, not {value!r}")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def parse_smtp_url(value: str) -> str:
    """smtp://[user:password@]host[:port]?from=ADDRESS (STARTTLS when offered) or smtps://…
    (TLS from the start); a bad one stops the start."""
    parts = urlsplit(value.strip())
    sender = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        refusal = "must be smtp://host[:port]?from=ADDRESS or smtps://…"
    elif "@" not in sender.get("from", "") or parts.path.strip("/") or parts.fragment:
        refusal = "must name the sender as ?from=ADDRESS, with no path"
    else:
        return value.strip()
    raise ValueError(f"PEERLEX_SMTP_URL {refusal}")


@dataclass(frozen=True)
class Config:
    """Where peerlex keeps its data and the limits it enforces."""

    data_dir: Path
    database_url: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT
    token_ttl_hours: int = 24 * 30
    max_document_blocks: int = DEFAULT_MAX_BLOCKS
    page_blocks: int = DEFAULT_PAGE_BLOCKS
    page_chars: int = DEFAULT_PAGE_CHARS
    diff_cache_bytes: int = DEFAULT_DIFF_CACHE
    expensive_per_worker: int = 2
    expensive_chars: int = 200_000
    diff_memory_bytes: int = DEFAULT_DIFF_MEMORY
    diff_cpu_seconds: int = 60
    scrypt_n: int = 2**15
    secure_cookies: bool = True
    # Reverse proxies whose X-Forwarded-For is believed (docs/deployment.md); none by default.
    trusted_proxies: tuple[Network, ...] = ()
    # A cookie session ends after this long without a request, and this long after sign-in.
    session_idle_minutes: int = DEFAULT_SESSION_IDLE_MINUTES
    session_max_hours: int = DEFAULT_SESSION_MAX_HOURS
    require_mfa: str = "roles"
    # The origin browsers reach this deployment at (PEERLEX_PUBLIC_URL); None: localhost only.
    public_url: str | None = None
    # Where invitation links are mailed from (PEERLEX_SMTP_URL); None: no mail is sent. It may
    # hold the mail server's password: never in a repr, so never in a log.
    smtp_url: str | None = field(default=None, repr=False)
    testing: bool = False
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Read PEERLEX_* variables; explicit overrides (from the command line) win."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {
            "data_dir": Path(env.get("PEERLEX_DATA", "data")).resolve(),
            "database_url": env.get("PEERLEX_DATABASE_URL") or None,
            "max_body_bytes": _int(env, "PEERLEX_MAX_BODY_BYTES", DEFAULT_MAX_BODY),
            "max_attachment_bytes": _int(
                env, "PEERLEX_MAX_ATTACHMENT_BYTES", DEFAULT_MAX_ATTACHMENT
            ),
            "token_ttl_hours": _int(env, "PEERLEX_TOKEN_TTL_HOURS", 24 * 30),
            "max_document_blocks": _int(env, "PEERLEX_MAX_DOCUMENT_BLOCKS", DEFAULT_MAX_BLOCKS),
            "page_blocks": _int(env, "PEERLEX_PAGE_BLOCKS", DEFAULT_PAGE_BLOCKS),
            "page_chars": _int(env, "PEERLEX_PAGE_CHARS", DEFAULT_PAGE_CHARS),
            "diff_cache_bytes": _int(env, "PEERLEX_DIFF_CACHE_BYTES", DEFAULT_DIFF_CACHE),
            "expensive_per_worker": _int(env, "PEERLEX_EXPENSIVE_PER_WORKER", 2),
            "expensive_chars": _int(env, "PEERLEX_EXPENSIVE_CHARS", 200_000),
            "diff_memory_bytes": _int(env, "PEERLEX_DIFF_MEMORY_BYTES", DEFAULT_DIFF_MEMORY),
            "diff_cpu_seconds": _int(env, "PEERLEX_DIFF_CPU_SECONDS", 60),
            "scrypt_n": _int(env, "PEERLEX_SCRYPT_N", 2**15),
            "secure_cookies": env.get("PEERLEX_INSECURE_COOKIES", "") != "1",
            "trusted_proxies": parse_networks(env.get("PEERLEX_TRUSTED_PROXIES", "")),
            "session_idle_minutes": _positive(
                env, "PEERLEX_SESSION_IDLE_MINUTES", DEFAULT_SESSION_IDLE_MINUTES
            ),
            "session_max_hours": _positive(
                env, "PEERLEX_SESSION_MAX_HOURS", DEFAULT_SESSION_MAX_HOURS
            ),
            "require_mfa": _choice(env, "PEERLEX_REQUIRE_MFA", REQUIRE_MFA_CHOICES),
            "public_url": parse_public_url(env["PEERLEX_PUBLIC_URL"])
            if env.get("PEERLEX_PUBLIC_URL")
            else None,
            "smtp_url": parse_smtp_url(env["PEERLEX_SMTP_URL"])
            if env.get("PEERLEX_SMTP_URL")
            else None,
            "environ": env,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values["data_dir"], str):
            values["data_dir"] = Path(values["data_dir"]).resolve()
        return cls(**values)  # type: ignore[arg-type]

    @property
    def webauthn_rp_id(self) -> str:
        """The relying party id security keys are bound to: the public URL's host, never the
        Host header a request brings."""
        if self.public_url is None:
            return LOCAL_RP_ID
        return urlsplit(self.public_url).hostname or LOCAL_RP_ID

    def webauthn_origin_allowed(self, origin: str) -> bool:
        """Whether a browser at origin may use security keys here: the public URL's exactly,
        or without one, http(s)://localhost on any port (the embedded default)."""
        if self.public_url is not None:
            return origin == self.public_url
        return LOCAL_ORIGIN.fullmatch(origin) is not None

    @property
    def master_key_path(self) -> Path:
        return self.data_dir / "master.key"

    @property
    def database_uri(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'peerlex.db'}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def repos_dir(self) -> Path:
        return self.data_dir / "repos"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def diff_cache_dir(self) -> Path:
        return self.data_dir / "cache" / "diffs"

    @property
    def bundles_dir(self) -> Path:
        return self.data_dir / "bundles"
