"""Mailing an invitation's link where the deployment has a mail server (PEERLEX_SMTP_URL):
who invites, to which party and role, and the link; never any document content."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from server.config import Config
from server.link_models import Invitation

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 10


def invitation_message(invitation: Invitation, url: str, sender: str) -> EmailMessage:
    """The mail: plain text, in English and Russian, naming the inviter, party and role."""
    inviter = invitation.invited_by.email if invitation.invited_by else "an administrator"
    party = f"{invitation.party.code} ({invitation.party.name})"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = invitation.email
    message["Subject"] = "peerlex: invitation / приглашение"
    message.set_content(
        f"{inviter} invites you to {party} as {invitation.role} on peerlex.\n"
        "Open this link to choose your password (it works once, for 7 days):\n\n"
        f"{url}\n\n"
        f"{inviter} приглашает вас в {party} (роль: {invitation.role}) в peerlex.\n"
        "Откройте ссылку, чтобы выбрать пароль (она действует один раз, в течение 7 дней):\n\n"
        f"{url}\n"
    )
    return message


def mail_invitation(config: Config, invitation: Invitation, url: str) -> bool:
    """Send the invitation's link by mail, if a mail server is configured; answer whether it
    was handed to the server. A failure is logged, never raised: the inviter has the link."""
    if config.smtp_url is None:
        return False
    parts = urlsplit(config.smtp_url)
    sender = unquote(dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)["from"])
    host = parts.hostname or ""
    try:
        if parts.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT)
        with server:
            server.ehlo()
            if parts.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls(context=ssl.create_default_context())
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(invitation_message(invitation, url, sender))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("the invitation %s could not be mailed: %s", invitation.id, exc)
        return False
    return True
