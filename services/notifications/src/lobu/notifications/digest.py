"""Daily digests: the facts a recipient chose to bundle become one mail a day.

Facts of a category whose recipient chose "digest" wait as digest items. From the
configured hour on (local time), the items created before that day's hour are bundled
per (recipient, category) into one delivery whose event id names the day
(`digest:<category>:<date>`), so a day's digest exists once, however often this runs;
each item points at the digest it went into, so a fact is in one digest only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.messages import MessageRenderer
from lobu.notifications.models import Delivery, DeliveryStatus, DigestItem
from lobu.notifications.preferences import DeliveryMode, UnsubscribeLinks, mode_of, recipient_key
from lobu.notifications.routing import CATEGORY_TITLES, Category
from lobu.shared.locks import lock_entity

logger = logging.getLogger(__name__)

DIGEST_EVENT_TYPE = "lobu.notifications.digest"
DIGEST_REASON = (
    "Sie erhalten diese Zusammenfassung, weil Sie für „{category}“ eine tägliche "
    "Zusammenfassung gewählt haben."
)


def digest_event_id(category: str, day: date) -> str:
    """The event id of one day's digest of a category."""
    return f"digest:{category}:{day.isoformat()}"


class DigestComposer:
    """Bundles waiting digest items into digest deliveries once the hour has come."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        renderer: MessageRenderer,
        links: UnsubscribeLinks,
        *,
        hour: int,
        timezone: str,
    ) -> None:
        self._sessions = sessions
        self._renderer = renderer
        self._links = links
        self._hour = hour
        self._zone = ZoneInfo(timezone)

    async def compose_due(self, now: datetime) -> int:
        """Write today's digests if the hour has come; return how many were written."""
        local = now.astimezone(self._zone)
        if local.hour < self._hour:
            return 0
        day = local.date()
        cutoff = datetime.combine(day, time(self._hour), self._zone).astimezone(UTC)
        written = 0
        async with self._sessions() as session, session.begin():
            # Two instances composing at once would write the same digests.
            await lock_entity(session, "notifications.digest", day.isoformat())
            items = (
                await session.scalars(
                    select(DigestItem)
                    .where(
                        col(DigestItem.digest_delivery_id).is_(None),
                        col(DigestItem.created_at) < cutoff,
                    )
                    .order_by(col(DigestItem.id))
                )
            ).all()
            groups: dict[tuple[str, str], list[DigestItem]] = defaultdict(list)
            for item in items:
                groups[(item.address, item.category)].append(item)
            for (address, category), group in groups.items():
                if await self._compose(session, address, Category(category), day, group):
                    written += 1
        if written:
            logger.info("wrote %d digests for %s", written, day.isoformat())
        return written

    async def _compose(
        self,
        session: AsyncSession,
        address: str,
        category: Category,
        day: date,
        items: list[DigestItem],
    ) -> bool:
        event_id = digest_event_id(category.value, day)
        exists = await session.scalar(
            select(col(Delivery.id)).where(
                col(Delivery.event_id) == event_id, col(Delivery.recipient) == address
            )
        )
        if exists is not None:
            return False  # today's is written: late items go into tomorrow's
        unsubscribe_url = self._links.url(await recipient_key(session, address), category)
        title = CATEGORY_TITLES[category]
        mail = self._renderer.render(
            "digest",
            {
                "category_title": title,
                "day": day.strftime("%d.%m.%Y"),
                "items": [{"summary": item.summary, "url": item.url} for item in items],
            },
            reason=DIGEST_REASON.format(category=title),
            unsubscribe_url=unsubscribe_url,
        )
        suppressed = await mode_of(session, address, category) is DeliveryMode.OFF
        delivery = Delivery(
            event_id=event_id,
            event_type=DIGEST_EVENT_TYPE,
            template="digest",
            category=category.value,
            recipient=address,
            subject=mail.subject[:300],
            body=mail.text,
            html_body=mail.html,
            unsubscribe_url=unsubscribe_url,
            status=(DeliveryStatus.SUPPRESSED if suppressed else DeliveryStatus.PENDING).value,
            last_error=f"unsubscribed from {title}" if suppressed else None,
        )
        session.add(delivery)
        await session.flush()
        for item in items:
            item.digest_delivery_id = delivery.id
        return True
