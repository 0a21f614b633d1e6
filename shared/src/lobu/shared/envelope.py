"""CloudEvents 1.0 in Kafka binary mode, through the CloudEvents SDK's Kafka binding.

Attributes travel as `ce_*` headers, the JSON data as the record value, and the
record key is the entity id (the `partitionkey` extension), so all facts about one
entity stay in order in one partition. The correlation id rides along as the
`correlationid` extension, the W3C trace context as the distributed-tracing extension
`traceparent` (`ce_traceparent`; see tracing.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_id", "ce_source", "ce_type", "ce_specversion")


class EnvelopeError(ValueError):
    """A Kafka record is not a valid CloudEvent in binary mode."""


@dataclass(frozen=True)
class Envelope:
    """One CloudEvent: its attributes and its JSON-ready data."""

    type: str
    source: str
    subject: str
    data: Mapping[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    traceparent: str | None = None  # W3C trace context of the write that caused it

    @property
    def key(self) -> str:
        """The Kafka record key: the subject, i.e. the entity id."""
        return self.subject


@dataclass(frozen=True)
class KafkaRecord:
    """What goes onto or comes off a topic: headers, key and value as bytes."""

    headers: dict[str, bytes]
    key: bytes | None
    value: bytes


def to_kafka_record(envelope: Envelope) -> KafkaRecord:
    """Encode an envelope as a binary-mode Kafka record."""
    attributes: dict[str, Any] = {
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "specversion": SPEC_VERSION,
        "subject": envelope.subject,
        "time": envelope.time,
        "datacontenttype": JSON_CONTENT_TYPE,
        "partitionkey": envelope.key,
    }
    if envelope.correlation_id:
        attributes["correlationid"] = envelope.correlation_id
    if envelope.traceparent:
        attributes["traceparent"] = envelope.traceparent
    message = ce_kafka.to_binary_event(CloudEvent(attributes=attributes, data=dict(envelope.data)))
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return KafkaRecord(headers=dict(message.headers), key=key, value=message.value)


def from_kafka_record(
    headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
    key: bytes | None,
    value: bytes | None,
) -> Envelope:
    """Decode a binary-mode Kafka record; raise EnvelopeError on anything malformed."""
    header_map = dict(headers.items() if isinstance(headers, Mapping) else headers)
    header_map = {name: raw for name, raw in header_map.items() if raw is not None}
    # The SDK would invent a random id for a record without ce_id, and every
    # redelivery would then look new to the inbox: the required attributes must be there.
    missing = [name for name in REQUIRED_HEADERS if not header_map.get(name)]
    if missing:
        raise EnvelopeError(f"the record lacks the CloudEvents headers {', '.join(missing)}")
    if header_map["ce_specversion"] != SPEC_VERSION.encode():
        raise EnvelopeError(
            f"unsupported CloudEvents specversion {header_map['ce_specversion']!r}; lobu reads 1.0"
        )
    if value is None:
        raise EnvelopeError("the record has no value (a tombstone is not an event)")
    try:
        json.loads(value)
    except (UnicodeDecodeError, ValueError) as error:
        raise EnvelopeError(f"the record value is not JSON: {error}") from error
    try:
        event = ce_kafka.from_binary_event(
            ce_kafka.KafkaMessage(headers=header_map, key=key, value=value)
        )
    except Exception as error:  # the SDK raises several kinds; all mean "not an event"
        raise EnvelopeError(f"not a CloudEvent in Kafka binary mode: {error}") from error
    data = event.get_data()
    if not isinstance(data, dict):
        raise EnvelopeError("the event data is not a JSON object")
    subject = event.get_subject() or (key.decode(errors="replace") if key else "")
    time = event.get_time() or datetime.now(UTC)
    correlation = event.get_extension("correlationid")
    traceparent = event.get_extension("traceparent")
    return Envelope(
        type=event.get_type(),
        source=event.get_source(),
        subject=subject,
        data=data,
        id=event.get_id(),
        time=time,
        correlation_id=str(correlation) if correlation else None,
        traceparent=str(traceparent) if traceparent else None,
    )
