"""Standard Webhooks signatures: `whsec_` secrets and `v1,<base64 HMAC-SHA256>` entries.

The signed content is `<webhook-id>.<webhook-timestamp>.<body>`; the key is the
base64-decoded part of the secret after `whsec_`. The `webhook-signature` header lists
one entry per secret that signs (two during a rotation's overlap), space-separated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105  # the format's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """One signature entry, `v1,<base64>`, of `message_id.timestamp.body` under `secret`."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    signing_secrets: Iterable[str], *, message_id: str, timestamp: int, body: bytes
) -> str:
    """The `webhook-signature` value: an entry for each secret, space-separated."""
    return " ".join(
        sign(secret, message_id=message_id, timestamp=timestamp, body=body)
        for secret in signing_secrets
    )
