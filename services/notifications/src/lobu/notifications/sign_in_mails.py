"""A one-time sign-in link (`directory.sign-in-link`), mailed to the address that asked.

The directory publishes the request only for an address it knows; the mail goes to
that address alone, at once (transactional: no preference holds it back). The link is
a credential: the delivery carries `personal_until` = the link's expiry, so
retention.py erases its body once sent, and cancels and erases it unsent once the link
has expired (a late mail would be useless). Nothing here logs the address or the link.
One mail per request: the delivery is keyed by the event, so a redelivered event finds
the delivery it wrote and writes none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from lobu.notifications.notifier import Notifier, Recipient
from lobu.notifications.routing import RecipientKind, routes_for
from lobu.shared import Envelope, as_utc, read_event_data
from lobu.shared.contracts.directory import SIGN_IN_LINK_REQUESTED, SignInLinkRequested

(SIGN_IN_LINK,) = routes_for(SIGN_IN_LINK_REQUESTED, RecipientKind.SIGN_IN_REQUESTERS)


class SignInLinkMails:
    """The handler of `lobu.directory.sign-in-link.requested.v1`."""

    def __init__(self, notifier: Notifier, *, timezone: str = "Europe/Berlin") -> None:
        self._notifier = notifier
        self._zone = ZoneInfo(timezone)

    async def on_sign_in_link(self, session: AsyncSession, envelope: Envelope) -> None:
        """Write the one delivery of the link, to be erased once sent or expired."""
        fact = read_event_data(SignInLinkRequested, envelope.data)
        await self._notifier.notify(
            session,
            route=SIGN_IN_LINK,
            event_id=envelope.id,
            alliance_id=None,
            recipient=Recipient(address=str(fact.email)),
            values=self.values(fact),
            personal_until=as_utc(fact.expires_at),
        )

    def values(self, fact: SignInLinkRequested) -> dict[str, Any]:
        """What the sign_in_link templates name; the expiry in local time."""
        return {
            "sign_in_url": fact.link,
            "valid_until": _local_time(fact.expires_at, self._zone),
            "staff": fact.staff,
            "alliance_names": list(fact.alliance_names),
        }


def _local_time(moment: datetime, zone: ZoneInfo) -> str:
    """14:35 (the link lives minutes, so the hour says enough)."""
    return as_utc(moment).astimezone(zone).strftime("%H:%M")
