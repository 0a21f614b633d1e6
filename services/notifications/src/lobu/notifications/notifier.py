"""Turning one routed fact into deliveries: preferences, digest, rendering, the log row.

Called by the handlers inside the consumer's transaction, so a fact's deliveries are
written once, together with the inbox entry. Nothing is sent here: the dispatcher
sends what is written (never blocking the consumers on SMTP).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.notifications.erasures import Erasures
from lobu.notifications.messages import MessageRenderer
from lobu.notifications.models import Delivery, DeliveryStatus, DigestItem
from lobu.notifications.preferences import DeliveryMode, UnsubscribeLinks, mode_of, recipient_key
from lobu.notifications.routing import CATEGORY_TITLES, Route, digest_categories, reason_for
from lobu.shared import utc_now
from lobu.shared.database import insert_ignoring_duplicates

EMAIL = "email"
# A delivery a transactional route of the same event may take the place of.
REPLACEABLE = (
    DeliveryStatus.PENDING.value,
    DeliveryStatus.RETRYING.value,
    DeliveryStatus.SUPPRESSED.value,
)


@dataclass(frozen=True)
class Recipient:
    """One person or mailbox a route resolved to, with what their mail says of them."""

    address: str
    values: Mapping[str, Any] = field(default_factory=dict)
    reason_values: Mapping[str, Any] = field(default_factory=dict)


class Notifier:
    """Writes the deliveries (or digest items) of one routed fact."""

    def __init__(
        self,
        renderer: MessageRenderer,
        links: UnsubscribeLinks,
        erasures: Erasures | None = None,
    ) -> None:
        self._renderer = renderer
        self._links = links
        self._erasures = erasures

    async def erased(self, session: AsyncSession, address: str) -> bool:
        """True when `address` was erased after the fact being handled (erasures.py)."""
        return self._erasures is not None and await self._erasures.forbids(session, address)

    async def notify(
        self,
        session: AsyncSession,
        *,
        route: Route,
        event_id: str,
        alliance_id: str | None,
        recipient: Recipient,
        values: Mapping[str, Any],
        reply_to: str | None = None,
        personal_until: datetime | None = None,
    ) -> Delivery | None:
        """The delivery of `route` for `recipient` (written once per event and address).

        `personal_until`: the body holds someone's personal data, erased once sent or
        at that moment (retention.py); `reply_to` is where answers go.
        """
        address = recipient.address.strip().lower()
        if await self.erased(session, address) or (
            reply_to is not None and await self.erased(session, reply_to)
        ):
            return None  # an old fact must not bring an erased address back
        existing = await session.scalar(
            select(Delivery).where(
                col(Delivery.event_id) == event_id,
                col(Delivery.recipient) == address,
                col(Delivery.channel) == EMAIL,
            )
        )
        replaceable = (
            existing is not None
            and route.transactional
            and existing.category != route.category.value
            and existing.status in REPLACEABLE
        )
        if existing is not None and not replaceable:
            return existing
        mode = await mode_of(session, address, route.category)
        if self._erasures is not None and not route.transactional:
            erased = await self._erasures.entry(session, address)
            if erased is not None and route.category.value in erased.opted_out:
                mode = DeliveryMode.OFF  # opted out before the erasure: stays so
        merged = {**values, **recipient.values}
        if mode is DeliveryMode.DIGEST and route.digest_summary:
            await _add_digest_item(session, route, event_id, address, merged)
            return None
        unsubscribe_url = None
        if not route.transactional:
            unsubscribe_url = self._links.url(await recipient_key(session, address), route.category)
        reason = reason_for(route.recipients, recipient.reason_values)
        mail = self._renderer.render(
            route.template,
            merged,
            reason=reason,
            unsubscribe_url=unsubscribe_url,
            digest_offered=route.category in digest_categories(),
        )
        suppressed = mode is DeliveryMode.OFF
        if existing is not None:
            # Two routes of one event reach the same address: one message, and it is
            # the transactional one (a contact who is also the Servicebüro's mailbox).
            await session.delete(existing)
            await session.flush()
        delivery = Delivery(
            event_id=event_id,
            event_type=route.event_type,
            alliance_id=alliance_id,
            template=route.template,
            category=route.category.value,
            channel=EMAIL,
            recipient=address,
            subject=mail.subject[:300],
            body=mail.text,
            html_body=mail.html,
            unsubscribe_url=unsubscribe_url,
            reply_to=reply_to,
            personal_until=personal_until,
            status=(DeliveryStatus.SUPPRESSED if suppressed else DeliveryStatus.PENDING).value,
            last_error=(
                f"unsubscribed from {CATEGORY_TITLES[route.category]}" if suppressed else None
            ),
        )
        session.add(delivery)
        await session.flush()
        return delivery


async def _add_digest_item(
    session: AsyncSession,
    route: Route,
    event_id: str,
    address: str,
    values: Mapping[str, Any],
) -> None:
    """Queue the fact for the recipient's digest; a second copy of the fact is dropped."""
    summary = (route.digest_summary or "").format(**values)
    row = {
        "address": address,
        "category": route.category.value,
        "event_id": event_id,
        "event_type": route.event_type,
        "summary": summary[:500],
        "url": values.get("alliance_url"),
        "created_at": utc_now(),
    }
    await session.execute(insert_ignoring_duplicates(session, DigestItem, **row))
