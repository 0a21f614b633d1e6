"""Sending one email over SMTP (aiosmtplib)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from lobu.notifications.settings import NotificationSettings


class SmtpMailer:
    """Talks SMTP to the configured relay (the local sink in development)."""

    def __init__(self, settings: NotificationSettings) -> None:
        self._settings = settings

    async def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        """Send one plain-text message; raises on any SMTP or connection failure.

        The Message-ID is derived from `idempotency_key`, so if a crash makes us send a
        message twice, receiving systems can recognise the copy.
        """
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        message["Message-ID"] = f"<{digest}@lobu.lokale-buendnisse-fuer-familie.de>"
        message.set_content(body, charset="utf-8")
        await aiosmtplib.send(
            message,
            hostname=self._settings.smtp_host,
            port=self._settings.smtp_port,
            username=self._settings.smtp_username,
            password=self._settings.smtp_password,
            start_tls=self._settings.smtp_starttls,
            timeout=self._settings.smtp_timeout_seconds,
        )
