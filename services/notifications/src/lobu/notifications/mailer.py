"""Sending one email over SMTP (aiosmtplib): multipart/alternative, text and HTML."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib

from lobu.notifications.settings import NotificationSettings

MESSAGE_ID_DOMAIN = "lobu.lokale-buendnisse-fuer-familie.de"


def message_id(idempotency_key: str) -> str:
    """The Message-ID of the mail for `idempotency_key`: the same for every copy."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class OutgoingMail:
    """One mail as the dispatcher hands it over."""

    recipient: str
    subject: str
    text: str
    html: str | None
    idempotency_key: str
    unsubscribe_url: str | None = None
    reply_to: str | None = None  # a citizen's address: the contacts answer them directly


class MailerProto(Protocol):
    """What the dispatcher sends through."""

    async def send(self, mail: OutgoingMail) -> None:
        """Send `mail`; raise on any failure."""


def compose(mail: OutgoingMail, *, sender: str) -> EmailMessage:
    """The RFC 5322 message: text part first, HTML part as the preferred alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(mail.idempotency_key)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    if mail.unsubscribe_url:
        # RFC 2369 and RFC 8058: mail clients offer one click, a POST to this URL.
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text, charset="utf-8")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8")
    return message


class SmtpMailer:
    """Talks SMTP to the configured relay (the local sink in development)."""

    def __init__(self, settings: NotificationSettings) -> None:
        self._settings = settings

    async def send(self, mail: OutgoingMail) -> None:
        """Send one message; raises on any SMTP or connection failure.

        If a crash makes us send a message twice, its Message-ID (derived from the
        idempotency key) lets receiving systems recognise the copy.
        """
        await aiosmtplib.send(
            compose(mail, sender=self._settings.mail_from),
            hostname=self._settings.smtp_host,
            port=self._settings.smtp_port,
            username=self._settings.smtp_username,
            password=self._settings.smtp_password,
            start_tls=self._settings.smtp_starttls,
            timeout=self._settings.smtp_timeout_seconds,
        )
