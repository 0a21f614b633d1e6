"""A cluster's address list ("a:9092,b:9092,c:9092") connects, also with a node down.

FastStream took the comma-separated string as one host name, so every service on the
three-broker cluster stayed "Kafka unreachable" (found by the first full `make faults`).
"""

from __future__ import annotations

import asyncio

import pytest

from lobu.shared.kafka import KafkaConnection, create_broker
from lobu.shared.metrics import ServiceMetrics
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_a_list_of_addresses_with_one_dead_node_connects(kafka: KafkaServer) -> None:
    servers = f"127.0.0.1:{free_port()}, {kafka.bootstrap_servers}"
    metrics = ServiceMetrics(service="address-list")
    broker = create_broker(bootstrap_servers=servers, service="address-list", metrics=metrics)
    connection = KafkaConnection(broker, bootstrap_servers=servers, metrics=metrics)
    connection.start()
    try:
        await asyncio.wait_for(connection.wait_connected(), timeout=60)
        assert await connection.ping()
    finally:
        await connection.stop()
