"""Dead letters keep the original record and say why; the original comes back unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from lobu.shared.dead_letter import DLQ_HEADER_PREFIX, dead_letter_record, original_record
from lobu.shared.envelope import KafkaRecord

pytestmark = pytest.mark.unit

ORIGINAL_HEADERS = [("ce_id", b"e-1"), ("ce_type", b"lobu.directory.alliance.created.v1")]


def letter(**overrides: Any) -> KafkaRecord:
    """The dead letter of a record that failed in the consumer `notifications`."""
    arguments: dict[str, Any] = {
        "headers": ORIGINAL_HEADERS,
        "key": b"a-1",
        "value": b'{"city": "M\\u00fcnchen"}',
        "consumer": "notifications",
        "topic": "directory.alliance",
        "partition": 3,
        "offset": 1234,
        "reason": "failed",
        "error": "RuntimeError('SMTP refused')",
    }
    arguments.update(overrides)
    return dead_letter_record(**arguments)


def test_a_dead_letter_keeps_headers_key_and_value_and_says_why() -> None:
    record = letter()

    assert record.key == b"a-1"
    assert record.value == b'{"city": "M\\u00fcnchen"}'
    assert record.headers["ce_id"] == b"e-1"
    assert record.headers["lobu-dlq-reason"] == b"failed"
    assert record.headers["lobu-dlq-error"] == b"RuntimeError('SMTP refused')"
    assert record.headers["lobu-dlq-consumer"] == b"notifications"
    assert record.headers["lobu-dlq-original-topic"] == b"directory.alliance"
    assert record.headers["lobu-dlq-original-partition"] == b"3"
    assert record.headers["lobu-dlq-original-offset"] == b"1234"
    assert b"T" in record.headers["lobu-dlq-failed-at"]


def test_a_long_error_is_cut_short() -> None:
    record = letter(error="x" * 10_000)

    assert len(record.headers["lobu-dlq-error"]) == 4000


def test_a_dead_letter_of_a_record_without_value_has_an_empty_value() -> None:
    record = letter(value=None)

    assert record.value == b""


def test_dead_lettering_a_dead_letter_again_replaces_the_old_reasons() -> None:
    old_headers = [*ORIGINAL_HEADERS, ("lobu-dlq-reason", b"malformed"), ("lobu-dlq-stale", b"x")]

    record = letter(headers=old_headers, reason="invalid")

    assert record.headers["lobu-dlq-reason"] == b"invalid"
    assert "lobu-dlq-stale" not in record.headers


def test_the_original_record_comes_back_without_dlq_headers_with_its_topic() -> None:
    dead = letter()

    topic, original = original_record(list(dead.headers.items()), dead.key, dead.value)

    assert topic == "directory.alliance"
    assert original.headers == dict(ORIGINAL_HEADERS)
    assert not any(name.startswith(DLQ_HEADER_PREFIX) for name in original.headers)
    assert original.key == b"a-1"
    assert original.value == b'{"city": "M\\u00fcnchen"}'


def test_a_record_without_the_original_topic_header_is_not_a_dead_letter() -> None:
    with pytest.raises(ValueError, match="original-topic"):
        original_record([*ORIGINAL_HEADERS, ("lobu-dlq-reason", b"failed")], b"a-1", b"{}")


def test_header_bytes_that_are_not_text_survive_the_dead_letter_and_the_way_back() -> None:
    odd = [*ORIGINAL_HEADERS, ("x-trace", b"\xff\xfe\x00\x80")]

    dead = letter(headers=odd)
    _, original = original_record(list(dead.headers.items()), dead.key, dead.value)

    assert dead.headers["x-trace"] == b"\xff\xfe\x00\x80"
    assert original.headers == dict(odd)
