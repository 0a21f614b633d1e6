"""Time is always aware and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lobu.shared.clock import as_utc, utc_now

pytestmark = pytest.mark.unit


def test_now_is_aware_and_in_utc() -> None:
    now = utc_now()

    assert now.tzinfo is UTC


def test_a_naive_time_from_sqlite_is_read_as_utc() -> None:
    assert as_utc(datetime(2024, 5, 17, 9, 30)) == datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


def test_an_aware_time_is_converted_to_utc() -> None:
    berlin_summer = timezone(timedelta(hours=2))

    converted = as_utc(datetime(2024, 5, 17, 11, 30, tzinfo=berlin_summer))

    assert converted == datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
    assert converted.utcoffset() == timedelta(0)
    assert converted.hour == 9
