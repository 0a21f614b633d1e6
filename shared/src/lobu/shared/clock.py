"""Time in UTC, always timezone-aware; `Clock` is what a component takes to be testable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

# The current time as a component sees it: `utc_now` in a service, a fake in a test.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """`moment` as aware UTC; SQLite hands back naive datetimes that were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
