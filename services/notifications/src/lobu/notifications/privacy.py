"""What notifications holds of an address, and its erasure (lobu.shared.privacy).

Personal data here: the contacts replica, the delivery log (recipients, bodies that
name the person, a citizen's messages with their Reply-To), queued mail, preferences
and their link keys, digest items. Erasure:

- contacts replica: the address leaves every alliance's list (the version stays, so
  the directory's next list still supersedes it);
- deliveries to the address: mail not yet sent is cancelled; every row keeps that a
  mail of which template and category was sent when (what the log must show), with
  recipient, subject, bodies, Reply-To and unsubscribe link erased;
- deliveries from the address (its messages to alliances) lose body and Reply-To;
  bodies that mention it elsewhere (a roster) have it replaced;
- preferences, link key and digest items are deleted;
- a keyed hash of the address goes into the erasure list (erasures.py) with the
  categories it had opted out of: it stays opted out, and old facts stay erased.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.notifications.erasures import ErasedAddress, Erasures
from lobu.notifications.models import (
    UNSENT_STATUSES,
    ContactsReplica,
    Delivery,
    DeliveryStatus,
    DigestItem,
    MailRecipient,
    PendingSurveyMail,
    Preference,
)
from lobu.notifications.survey_mails import ALLIANCE_LOCK
from lobu.shared import utc_now
from lobu.shared.locks import lock_entity
from lobu.shared.privacy import ErasedCounts, FoundRecords, normalise_address

ERASED_TEXT = "[gelöscht]"
# An erased recipient: unique per row, as the log's key (event, recipient, channel) needs.
ERASED_PREFIX = "gelöscht:"
EMAIL = "email"


class NotificationsPersonalData:
    """Notifications' `PersonalDataHandler`."""

    def __init__(self, erasures: Erasures) -> None:
        self._erasures = erasures

    async def find(self, session: AsyncSession, email: str) -> FoundRecords:
        """Everything notifications holds with the address, per kind."""
        deliveries = await session.scalars(
            select(Delivery)
            .where(col(Delivery.channel) == EMAIL, func.lower(col(Delivery.recipient)) == email)
            .order_by(col(Delivery.id))
        )
        written = await session.scalars(
            select(Delivery)
            .where(func.lower(col(Delivery.reply_to)) == email)
            .order_by(col(Delivery.id))
        )
        preferences = await session.scalars(
            select(Preference).where(col(Preference.address) == email)
        )
        digest = await session.scalars(select(DigestItem).where(col(DigestItem.address) == email))
        return {
            "deliveries": [_delivery(row) for row in deliveries],
            "messages_written": [
                {**_delivery(row), "reply_to": row.reply_to, "body": row.body} for row in written
            ],
            "preferences": [
                {"category": row.category, "mode": row.mode, "updated_at": row.updated_at}
                for row in preferences
            ],
            "digest_items": [
                {"category": row.category, "summary": row.summary, "created_at": row.created_at}
                for row in digest
            ],
            "alliance_contacts": [
                {"alliance_id": replica.alliance_id, **contact}
                for replica in await _replicas_with(session, email)
                for contact in replica.contacts
                if _is(contact, email)
            ],
        }

    async def erase(self, session: AsyncSession, email: str) -> ErasedCounts:
        """Erase the address everywhere here, and remember its keyed hash."""
        counts: dict[str, int] = {}
        counts["alliance_contacts"] = await _erase_contacts(session, email)
        counts["deliveries"] = await _erase_deliveries_to(session, email)
        counts["messages_written"] = await _erase_messages_from(session, email)
        counts["mentions"] = await _erase_mentions(session, email)
        opted_out = sorted(
            set(
                await session.scalars(
                    select(col(Preference.category)).where(
                        col(Preference.address) == email, col(Preference.mode) == "off"
                    )
                )
            )
        )
        counts["preferences"] = await _deleted(
            session, delete(Preference).where(col(Preference.address) == email)
        )
        counts["digest_items"] = await _deleted(
            session, delete(DigestItem).where(col(DigestItem.address) == email)
        )
        counts["link_keys"] = await _deleted(
            session, delete(MailRecipient).where(col(MailRecipient.address) == email)
        )
        counts["pending_survey_mails"] = await _deleted(
            session,
            delete(PendingSurveyMail).where(
                func.lower(cast(col(PendingSurveyMail.data), Text)).contains(email, autoescape=True)
            ),
        )
        entry = await self._erasures.entry(session, email)
        if entry is None:
            session.add(
                ErasedAddress(address_hash=self._erasures.hasher.hash(email), opted_out=opted_out)
            )
        else:  # erased again: the later moment, and every opt-out ever known
            entry.opted_out = sorted(set(entry.opted_out) | set(opted_out))
            entry.erased_at = utc_now()
        await session.flush()
        return counts


def _delivery(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "recipient": row.recipient,
        "template": row.template,
        "category": row.category,
        "subject": row.subject,
        "status": row.status,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
    }


def _is(contact: dict[str, Any], email: str) -> bool:
    return normalise_address(str(contact.get("email", ""))) == email


async def _replicas_with(session: AsyncSession, email: str) -> list[ContactsReplica]:
    rows = await session.scalars(
        select(ContactsReplica).where(
            func.lower(cast(col(ContactsReplica.contacts), Text)).contains(email, autoescape=True)
        )
    )
    return list(rows)


async def _erase_contacts(session: AsyncSession, email: str) -> int:
    removed = 0
    for alliance_id in sorted(r.alliance_id for r in await _replicas_with(session, email)):
        await lock_entity(session, ALLIANCE_LOCK, alliance_id)  # as every alliance handler
        replica = await session.get(ContactsReplica, alliance_id, populate_existing=True)
        if replica is None:
            continue
        kept = [contact for contact in replica.contacts if not _is(contact, email)]
        removed += len(replica.contacts) - len(kept)
        replica.contacts = kept
    await session.flush()
    return removed


async def _erase_deliveries_to(session: AsyncSession, email: str) -> int:
    rows = list(
        await session.scalars(
            select(Delivery).where(
                col(Delivery.channel) == EMAIL, func.lower(col(Delivery.recipient)) == email
            )
        )
    )
    for row in rows:
        if row.status in UNSENT_STATUSES:
            row.status = DeliveryStatus.CANCELLED.value
            row.last_error = "Empfänger auf Antrag gelöscht"
        row.recipient = f"{ERASED_PREFIX}{row.id}"
        row.subject = ERASED_TEXT
        row.body = ""
        row.html_body = None
        row.unsubscribe_url = None
        row.reply_to = None
        row.personal_until = None
    await session.flush()
    return len(rows)


async def _erase_messages_from(session: AsyncSession, email: str) -> int:
    rows = list(
        await session.scalars(select(Delivery).where(func.lower(col(Delivery.reply_to)) == email))
    )
    for row in rows:
        if row.status in UNSENT_STATUSES:
            row.status = DeliveryStatus.CANCELLED.value
            row.last_error = "Absender auf Antrag gelöscht"
        row.body = ""
        row.html_body = None
        row.reply_to = None
        row.personal_until = None
    await session.flush()
    return len(rows)


async def _erase_mentions(session: AsyncSession, email: str) -> int:
    """Bodies that name the address (a roster to coordinators): the address replaced."""
    rows = list(
        await session.scalars(
            select(Delivery).where(
                or_(
                    func.lower(col(Delivery.body)).contains(email, autoescape=True),
                    func.lower(col(Delivery.html_body)).contains(email, autoescape=True),
                    func.lower(col(Delivery.subject)).contains(email, autoescape=True),
                )
            )
        )
    )
    for row in rows:
        row.body = _without(row.body, email)
        row.html_body = _without(row.html_body, email) if row.html_body else row.html_body
        row.subject = _without(row.subject, email)
    await session.flush()
    return len(rows)


def _without(text: str, email: str) -> str:
    """`text` with every spelling (of case) of `email` replaced."""
    lowered = text.lower()
    parts, start = [], 0
    while (found := lowered.find(email, start)) >= 0:
        parts += [text[start:found], ERASED_TEXT]
        start = found + len(email)
    return "".join([*parts, text[start:]])


async def _deleted(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
