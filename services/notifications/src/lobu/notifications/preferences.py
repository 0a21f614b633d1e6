"""Recipients' preferences per category, and the signed links that change them.

A link names a recipient by a random key (never the address: URLs end up in logs)
and a category, signed with HMAC-SHA256, so nobody can change another person's
preferences by guessing. The same URL serves the page (GET), the page's form and the
mail clients' one-click unsubscribe (POST `List-Unsubscribe=One-Click`, RFC 8058).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.notifications.models import MailRecipient, Preference
from lobu.notifications.routing import Category
from lobu.shared import utc_now
from lobu.shared.database import insert_ignoring_duplicates


class DeliveryMode(StrEnum):
    """How a recipient wants the mail of one category."""

    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


class UnsubscribeLinks:
    """Signs and reads the tokens of preference links under the public base URL."""

    def __init__(self, *, secret: str, public_base_url: str) -> None:
        self._secret = secret.encode()
        self._base = public_base_url.rstrip("/")

    def token(self, key: str, category: Category) -> str:
        """`<key>.<category>.<signature>`."""
        return f"{key}.{category.value}.{self._sign(key, category.value)}"

    def url(self, key: str, category: Category) -> str:
        """The absolute URL of the preference page (and of the one-click POST)."""
        return f"{self._base}/unsubscribe/{self.token(key, category)}"

    def read(self, token: str) -> tuple[str, Category] | None:
        """(key, category) of a token this service signed, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        key, category, signature = parts
        if not hmac.compare_digest(signature, self._sign(key, category)):
            return None
        try:
            return key, Category(category)
        except ValueError:
            return None

    def _sign(self, key: str, category: str) -> str:
        mac = hmac.new(self._secret, f"{key}.{category}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")


async def recipient_key(session: AsyncSession, address: str) -> str:
    """The link key of `address`, created on first use (safe when two handlers race)."""
    values = {"address": address, "key": secrets.token_urlsafe(16), "created_at": utc_now()}
    await session.execute(insert_ignoring_duplicates(session, MailRecipient, **values))
    key = await session.scalar(
        select(col(MailRecipient.key)).where(col(MailRecipient.address) == address)
    )
    if key is None:
        raise RuntimeError("the recipient row vanished inside its own transaction")
    return key


async def address_of(session: AsyncSession, key: str) -> str | None:
    """The address a link key stands for."""
    return await session.scalar(
        select(col(MailRecipient.address)).where(col(MailRecipient.key) == key)
    )


async def mode_of(session: AsyncSession, address: str, category: Category) -> DeliveryMode:
    """What `address` chose for `category`; transactional mail is always immediate."""
    if category is Category.TRANSACTIONAL:
        return DeliveryMode.IMMEDIATE
    preference = await session.get(Preference, (address, category.value))
    return DeliveryMode(preference.mode) if preference else DeliveryMode.IMMEDIATE


async def set_mode(
    session: AsyncSession, address: str, category: Category, mode: DeliveryMode
) -> None:
    """Record `address`'s choice for `category`."""
    if category is Category.TRANSACTIONAL:
        raise ValueError("transactional mail cannot be unsubscribed from")
    preference = await session.get(Preference, (address, category.value))
    if preference is None:
        session.add(Preference(address=address, category=category.value, mode=mode.value))
    else:
        preference.mode = mode.value
        preference.updated_at = utc_now()
