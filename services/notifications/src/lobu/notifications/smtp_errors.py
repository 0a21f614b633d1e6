"""What may be recorded of an SMTP failure: the class and the reply codes, no addresses.

aiosmtplib's exceptions carry the server's reply text, which names the recipient
("550 <grete@example.org>: unknown user"), and the refused addresses themselves. The
delivery log, the logs and the API show only what `describe` returns.
"""

from __future__ import annotations

from aiosmtplib import SMTPException, SMTPRecipientsRefused, SMTPResponseException


def reply_codes(error: BaseException) -> list[int]:
    """The SMTP reply codes an error carries (none for connection failures)."""
    if isinstance(error, SMTPRecipientsRefused):
        return sorted({refused.code for refused in error.recipients})
    if isinstance(error, SMTPResponseException):
        return [error.code]
    return []


def describe(error: BaseException) -> str:
    """A safe description: `SMTPRecipientsRefused (550)`, `SMTPConnectError`, ...

    Never the message: for SMTP errors it holds the server's reply (with addresses),
    for other errors it may hold anything.
    """
    codes = reply_codes(error)
    name = error.__class__.__name__
    return f"{name} ({', '.join(map(str, codes))})" if codes else name


def is_permanent(error: BaseException) -> bool:
    """A 5xx reply: sending the same mail again cannot succeed."""
    codes = reply_codes(error)
    return isinstance(error, SMTPException) and bool(codes) and min(codes) >= 500
