"""Dead letters: records a consumer could not handle, kept in `<topic>.dlq` with the reason.

The original headers, key and value are kept unchanged, byte for byte (header values
are never decoded here), so a replay after a fix puts back exactly what arrived. The
`lobu-dlq-*` headers say why and from where; `error` is a `safe_errors.describe_error`
text, never an exception's own text, which may hold personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from lobu.shared.envelope import KafkaRecord

DLQ_HEADER_PREFIX = "lobu-dlq-"


def dead_letter_record(
    *,
    headers: Iterable[tuple[str, bytes]],
    key: bytes | None,
    value: bytes | None,
    consumer: str,
    topic: str,
    partition: int,
    offset: int,
    reason: str,
    error: str,
) -> KafkaRecord:
    """The record to put on the dead-letter topic for one that failed."""
    kept = {name: raw for name, raw in headers if not name.startswith(DLQ_HEADER_PREFIX)}
    kept.update(
        {
            f"{DLQ_HEADER_PREFIX}reason": reason.encode(),
            f"{DLQ_HEADER_PREFIX}error": error[:4000].encode(),
            f"{DLQ_HEADER_PREFIX}consumer": consumer.encode(),
            f"{DLQ_HEADER_PREFIX}original-topic": topic.encode(),
            f"{DLQ_HEADER_PREFIX}original-partition": str(partition).encode(),
            f"{DLQ_HEADER_PREFIX}original-offset": str(offset).encode(),
            f"{DLQ_HEADER_PREFIX}failed-at": datetime.now(UTC).isoformat().encode(),
        }
    )
    return KafkaRecord(headers=kept, key=key, value=value if value is not None else b"")


def original_record(
    headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes
) -> tuple[str, KafkaRecord]:
    """The topic a dead letter came from and the record as it first arrived."""
    header_map = dict(headers)
    topic_header = header_map.get(f"{DLQ_HEADER_PREFIX}original-topic")
    if topic_header is None:
        raise ValueError("not a lobu dead letter: the original-topic header is missing")
    kept = {name: raw for name, raw in header_map.items() if not name.startswith(DLQ_HEADER_PREFIX)}
    return topic_header.decode(), KafkaRecord(headers=kept, key=key, value=value)
