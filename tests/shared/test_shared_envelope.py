"""CloudEvents 1.0 in Kafka binary mode: what goes onto a topic comes back unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from lobu.shared.envelope import (
    Envelope,
    EnvelopeError,
    KafkaRecord,
    from_kafka_record,
    to_kafka_record,
)
from tests.shared.shared_fakes import envelope

pytestmark = pytest.mark.unit

EVENT = Envelope(
    type="lobu.directory.alliance.created.v1",
    source="/lobu/directory",
    subject="a-42",
    data={
        "name": "Bündnis für Familie Görlitz",
        "city": "Görlitz",
        "topics": ["Väter", "Öffnungszeiten"],
    },
    id="0c7d1c1e-3c8a-4bb0-8a43-000000000001",
    time=datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=UTC),
    correlation_id="corr-ä-1",
)


def decode(record: KafkaRecord) -> Envelope:
    return from_kafka_record(record.headers, record.key, record.value)


def test_a_record_decodes_to_the_envelope_it_was_encoded_from() -> None:
    decoded = decode(to_kafka_record(EVENT))

    assert decoded.id == EVENT.id
    assert decoded.type == EVENT.type
    assert decoded.source == EVENT.source
    assert decoded.subject == EVENT.subject
    assert decoded.time == EVENT.time
    assert decoded.data == EVENT.data
    assert decoded.correlation_id == "corr-ä-1"
    assert decoded == EVENT


def test_umlauts_in_the_data_survive_the_round_trip() -> None:
    record = to_kafka_record(EVENT)

    assert json.loads(record.value)["city"] == "Görlitz"
    assert decode(record).data["topics"] == ["Väter", "Öffnungszeiten"]


def test_attributes_travel_as_ce_headers_and_the_data_as_a_json_value() -> None:
    record = to_kafka_record(EVENT)

    assert record.headers["ce_id"] == EVENT.id.encode()
    assert record.headers["ce_type"] == EVENT.type.encode()
    assert record.headers["ce_source"] == b"/lobu/directory"
    assert record.headers["ce_specversion"] == b"1.0"
    assert record.headers["ce_subject"] == b"a-42"
    assert record.headers["content-type"] == b"application/json"
    assert record.headers["ce_correlationid"] == "corr-ä-1".encode()
    assert all(name.startswith("ce_") or name == "content-type" for name in record.headers)
    assert all(isinstance(raw, bytes) for raw in record.headers.values())


def test_the_record_key_is_the_subject() -> None:
    record = to_kafka_record(EVENT)

    assert EVENT.key == "a-42"
    assert record.key == b"a-42"
    assert record.headers["ce_partitionkey"] == b"a-42"


def test_an_envelope_without_correlation_id_has_no_correlation_header() -> None:
    record = to_kafka_record(envelope(correlation_id=None))

    assert "ce_correlationid" not in record.headers
    assert decode(record).correlation_id is None


def test_a_time_in_another_zone_decodes_to_the_same_instant() -> None:
    summer = timezone(timedelta(hours=2))
    event = envelope(time=datetime(2024, 7, 1, 14, 0, tzinfo=summer))

    decoded = decode(to_kafka_record(event))

    assert decoded.time == datetime(2024, 7, 1, 12, 0, tzinfo=UTC)


def test_headers_may_come_as_a_list_of_pairs_as_kafka_delivers_them() -> None:
    record = to_kafka_record(EVENT)

    decoded = from_kafka_record(list(record.headers.items()), record.key, record.value)

    assert decoded == EVENT


def test_a_missing_subject_falls_back_to_the_record_key() -> None:
    record = to_kafka_record(EVENT)
    headers = {name: raw for name, raw in record.headers.items() if name != "ce_subject"}

    assert from_kafka_record(headers, b"a-7", record.value).subject == "a-7"


def test_new_envelopes_get_distinct_ids_and_an_aware_utc_time() -> None:
    first, second = envelope(), envelope()

    assert first.id != second.id
    assert first.time.tzinfo is not None
    assert first.time.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [b"not json", b"", b"\xff\xfe\x00", b'{"unclosed": '],
    ids=["text", "empty", "not-utf8", "truncated"],
)
def test_a_value_that_is_not_json_is_refused(value: bytes) -> None:
    record = to_kafka_record(EVENT)

    with pytest.raises(EnvelopeError, match="not JSON"):
        from_kafka_record(record.headers, record.key, value)


def test_a_tombstone_without_value_is_refused() -> None:
    record = to_kafka_record(EVENT)

    with pytest.raises(EnvelopeError, match="no value"):
        from_kafka_record(record.headers, record.key, None)


@pytest.mark.parametrize(
    "value",
    [b"[1, 2, 3]", b'"a string"', b"42", b"null"],
    ids=["array", "string", "number", "null"],
)
def test_data_that_is_not_a_json_object_is_refused(value: bytes) -> None:
    record = to_kafka_record(EVENT)

    with pytest.raises(EnvelopeError, match="not a JSON object"):
        from_kafka_record(record.headers, record.key, value)


def test_a_record_without_any_ce_headers_is_refused() -> None:
    record = to_kafka_record(EVENT)

    with pytest.raises(EnvelopeError):
        from_kafka_record({"content-type": b"application/json"}, record.key, record.value)


@pytest.mark.parametrize(
    "header",
    [
        "ce_type",
        "ce_source",
        pytest.param("ce_id"),
        pytest.param("ce_specversion"),
    ],
)
def test_a_record_missing_a_required_ce_header_is_refused(header: str) -> None:
    record = to_kafka_record(EVENT)
    headers = {name: raw for name, raw in record.headers.items() if name != header}

    with pytest.raises(EnvelopeError):
        from_kafka_record(headers, record.key, record.value)


@pytest.mark.parametrize(
    ("header", "raw"),
    [
        ("ce_time", b"yesterday"),
        ("ce_type", b"\xff\xfe"),
        ("ce_id", b""),
        ("ce_specversion", b"banana"),
    ],
    ids=["bad-time", "type-not-utf8", "empty-id", "unknown-specversion"],
)
def test_a_record_with_a_malformed_ce_header_is_refused(header: str, raw: bytes) -> None:
    record = to_kafka_record(EVENT)
    headers = {**record.headers, header: raw}

    with pytest.raises(EnvelopeError):
        from_kafka_record(headers, record.key, record.value)


def test_envelope_error_is_a_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)
