"""The transactional outbox: events are rows written in the same transaction as the change.

`add_event` is all a use case calls; `OutboxRelay` (relay.py) publishes the rows in
order once they have committed. Kafka being away therefore loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, Text, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from lobu.shared.clock import as_utc, utc_now
from lobu.shared.contracts.base import ContractModel
from lobu.shared.contracts.registry import EVENT_DEFINITIONS, definition_for
from lobu.shared.envelope import Envelope
from lobu.shared.logs import correlation_id_var
from lobu.shared.tracing import TRACEPARENT_LENGTH, current_traceparent

# Set in a session's `info` when it queued events (see `wake_after_commit`).
_QUEUED_EVENTS = "lobu_outbox_queued_events"


class OutboxMessage(SQLModel, table=True):
    """An event waiting to be (or already) published; `position` is the publishing order.

    `parked_at` is set when the relay gave up on the row (see relay.py); it and the
    later rows of its subject wait until an operator releases it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unpublished", "published_at", "position"),
        Index("ix_outbox_parked", "parked_at"),
    )

    position: int | None = Field(
        default=None,
        sa_column=Column(
            # SQLite autoincrements only a column declared exactly INTEGER.
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
    )
    event_id: str = Field(max_length=64, unique=True)
    topic: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    source: str = Field(max_length=200)
    subject: str = Field(max_length=200)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    correlation_id: str | None = Field(default=None, max_length=200)
    # The trace of the transaction that wrote the row; published as ce_traceparent.
    traceparent: str | None = Field(default=None, max_length=TRACEPARENT_LENGTH)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Refusals by Kafka while it answered; at the relay's limit the row is parked.
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    parked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )

    def mark_published(self, moment: datetime) -> None:
        """Record that Kafka has the event; the row's copy of personal data goes.

        Events on internal topics carry personal data or credentials (contacts, the
        personal survey link, a participant's cancel link; `personal_data` in their
        contract). Once Kafka has them, the outbox needs only the row's bookkeeping, so
        their data is erased instead of being kept beside hashed tokens for ever.
        """
        self.published_at = moment
        definition = EVENT_DEFINITIONS.get(self.event_type)  # add_event knows every type
        if definition is not None and definition.personal_data:
            self.data = {}

    def to_envelope(self) -> Envelope:
        """The CloudEvent this row stands for."""
        return Envelope(
            type=self.event_type,
            source=self.source,
            subject=self.subject,
            data=self.data,
            id=self.event_id,
            time=as_utc(self.occurred_at),
            correlation_id=self.correlation_id,
            traceparent=self.traceparent,
        )


def add_event(
    session: AsyncSession,
    *,
    event_type: str,
    source: str,
    subject: str,
    data: ContractModel,
) -> OutboxMessage:
    """Queue an event in the caller's transaction; it is published only if that commits.

    `data` must be the contract model registered for `event_type`, so a producer can
    never publish data its consumers cannot read.
    """
    definition = definition_for(event_type)
    if not isinstance(data, definition.data_model):
        raise TypeError(
            f"{event_type} carries {definition.data_model.__name__}, not {type(data).__name__}"
        )
    envelope = Envelope(
        type=event_type,
        source=source,
        subject=subject,
        data=data.model_dump(mode="json"),
        correlation_id=correlation_id_var.get(),
        traceparent=current_traceparent(),
    )
    message = OutboxMessage(
        event_id=envelope.id,
        topic=definition.topic,
        event_type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        data=dict(envelope.data),
        occurred_at=envelope.time,
        correlation_id=envelope.correlation_id,
        traceparent=envelope.traceparent,
    )
    session.add(message)
    session.info[_QUEUED_EVENTS] = True
    return message


def wake_after_commit(sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None]) -> None:
    """Call `wake` (the relay's) whenever a session of `sessions` commits outbox rows.

    So an event leaves within milliseconds of its commit instead of at the relay's
    next poll; polling stays as the fallback (rows another replica committed).
    """
    session_class = sessions.kw["sync_session_class"]

    def after_commit(session: Session) -> None:
        if session.info.pop(_QUEUED_EVENTS, False):
            wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(_QUEUED_EVENTS, None)

    event.listen(session_class, "after_commit", after_commit)
    event.listen(session_class, "after_rollback", after_rollback)
