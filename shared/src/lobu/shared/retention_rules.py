"""The retention every service has: published outbox rows, the inbox, Idempotency-Keys."""

from __future__ import annotations

from sqlmodel import col

from lobu.shared.idempotency_keys import IdempotencyKey
from lobu.shared.inbox import InboxMessage
from lobu.shared.outbox import OutboxMessage
from lobu.shared.retention import RetentionJob, RetentionRule
from lobu.shared.settings import ServiceSettings


def declare_shared_rules(job: RetentionJob, settings: ServiceSettings) -> None:
    """Declare the shared tables' rules with the periods of `settings`.

    Unpublished outbox rows never expire (their `published_at` is NULL). The inbox is
    kept longer than the topics keep records: a record read again (a consumer group
    whose offsets expired, a reset) is then still known as a duplicate.
    """
    job.declare(
        RetentionRule(
            name="outbox",
            table=OutboxMessage,
            column=col(OutboxMessage.published_at),
            period=settings.outbox_retention,
        )
    )
    job.declare(
        RetentionRule(
            name="inbox",
            table=InboxMessage,
            column=col(InboxMessage.handled_at),
            period=settings.inbox_retention,
        )
    )
    job.declare(
        RetentionRule(
            name="idempotency_keys",
            table=IdempotencyKey,
            column=col(IdempotencyKey.created_at),
            period=settings.idempotency_key_retention,
        )
    )
