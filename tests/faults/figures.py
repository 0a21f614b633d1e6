"""What a scenario left behind, counted, and printed as `FIGURE faults.<scenario>.<measure>`.

- accepted: writes the directory answered 201 to; refused: writes given up on.
- events_on_topic / distinct_events: records on the directory's two topics keyed by
  an accepted alliance, and their distinct CloudEvents ids; topic_duplicates is the
  difference (a relay killed between Kafka's ack and its commit sends again; the
  consumers' inbox absorbs the copy).
- effects: welcome mails in the sink to the scenario's recipients.
- lost: accepted writes whose recipient got no welcome mail.
- duplicated: second mails with a *different* Message-ID for one (event, recipient):
  a real duplicate effect. crash_copies: copies with the same Message-ID (a replica
  killed after sending, before recording it), which a receiver can recognise.
- recovery_s: from the fault until a write accepted after it was delivered;
  drain_s: from the fault until the last accepted write was delivered.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from tests.faults.load import Load
from tests.faults.replicas import TOPICS, Replicas
from tests.support.kafka_probe import read_topic


@dataclass(frozen=True)
class Figures:
    scenario: str
    values: dict[str, tuple[float | int, str]]

    def __getitem__(self, measure: str) -> float | int:
        return self.values[measure][0]

    def lines(self) -> list[str]:
        return [
            f"FIGURE faults.{self.scenario}.{measure} {_number(value)} {unit}"
            for measure, (value, unit) in self.values.items()
        ]


def _number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.1f}"


async def count(
    scenario: str, load: Load, replicas: Replicas, *, fault_at: float, extra: dict[str, float]
) -> Figures:
    """Count what the scenario's accepted writes led to (on the topics and in the sink)."""
    ids = {write.alliance_id.encode() for write in load.accepted}
    events: list[bytes] = []
    for topic in TOPICS:
        for record in await read_topic(replicas.bootstrap_servers, topic, timeout=120):
            if record.key in ids:
                events.append(record.headers.get("ce_id", b""))
    recipients = {write.recipient: write for write in load.accepted}
    mails = [mail for mail in replicas.mails() if mail.recipient in recipients]
    by_recipient: dict[str, Counter[str]] = {}
    for mail in mails:
        by_recipient.setdefault(mail.recipient, Counter())[mail.message_id] += 1
    first_delivery = {
        recipient: min(m.stored_at for m in mails if m.recipient == recipient)
        for recipient in by_recipient
    }
    after = [
        first_delivery[w.recipient]
        for w in load.accepted
        if w.sent_at >= fault_at and w.recipient in first_delivery
    ]
    values: dict[str, tuple[float | int, str]] = {
        "accepted": (len(load.accepted), "writes"),
        "refused": (load.refused, "writes"),
        "retried": (load.retries, "requests"),
        "events_on_topic": (len(events), "records"),
        "distinct_events": (len(set(events)), "events"),
        "topic_duplicates": (len(events) - len(set(events)), "records"),
        "effects": (len(mails), "mails"),
        "lost": (sum(1 for r in recipients if r not in by_recipient), "events"),
        "duplicated": (sum(len(ids_) - 1 for ids_ in by_recipient.values()), "mails"),
        "crash_copies": (
            sum(n - 1 for ids_ in by_recipient.values() for n in ids_.values()),
            "mails",
        ),
        "recovery_s": (min(after) - fault_at if after else float("nan"), "s"),
        "drain_s": (
            max(first_delivery.values()) - fault_at if first_delivery else float("nan"),
            "s",
        ),
    }
    values.update({name: (value, "s") for name, value in extra.items()})
    figures = Figures(scenario, values)
    print("\n" + "\n".join(figures.lines()), flush=True)
    return figures


def now() -> float:
    """Wall-clock time, comparable with the sink's file times."""
    return time.time()
