"""One outbox relay as a process of its own, for failover tests: it can be SIGKILLed.

    python -m tests.support.relay_process DATABASE_URL BOOTSTRAP_SERVERS NAME

Publishes the database's outbox as a service's relay would (lease, fence, order) until
it is killed; logs to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.kafka import KafkaConnection, create_broker
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.relay import OutboxRelay


async def main(database_url: str, bootstrap_servers: str, name: str) -> None:
    metrics = ServiceMetrics(service=name)
    engine = create_engine(database_url)
    broker = create_broker(bootstrap_servers=bootstrap_servers, service=name, metrics=metrics)
    kafka = KafkaConnection(broker, bootstrap_servers=bootstrap_servers, metrics=metrics)
    kafka.start()
    await kafka.wait_connected()
    relay = OutboxRelay(
        create_session_factory(engine), kafka.publish, metrics=metrics,
        poll_seconds=0.1, batch_size=20, kafka_answers=kafka.ping,
    )  # fmt: skip
    kafka.on_reachable(relay.wake)
    relay.start()
    logging.getLogger(__name__).info("relay process %s started", name)
    await asyncio.Event().wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    asyncio.run(main(*sys.argv[1:4]))
