"""Logs an operator can read: quiet at start, correctly levelled, one line per fact.

Plain lines name correlation and event ids only when there are some; Kafka
answering again is news (INFO), not a warning; a record that breaks its contract is
one line, not a dump. In-process (FastStream's test broker, fakes): no broker needed.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from lobu.shared.kafka import KafkaConnection
from lobu.shared.logs import correlation_id_var, event_id_var, log_handler
from lobu.shared.metrics import ServiceMetrics
from tests.support.waiting import eventually

pytestmark = pytest.mark.unit


def test_plain_lines_name_ids_only_when_there_are_some() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("lobu.test.ids")
    logger.addHandler(log_handler(service="t", json=False, stream=stream))
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.info("no ids here")
    token = correlation_id_var.set("corr-1")
    event = event_id_var.set("ev-1")
    try:
        logger.info("with ids")
    finally:
        correlation_id_var.reset(token)
        event_id_var.reset(event)

    without, with_ids = stream.getvalue().splitlines()
    assert without.endswith("lobu.test.ids: no ids here")
    assert with_ids.endswith("with ids (correlation_id=corr-1 event_id=ev-1)")


def test_json_lines_leave_out_ids_that_are_not_there() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("lobu.test.json-ids")
    logger.addHandler(log_handler(service="t", json=True, stream=stream))
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.info("no ids here")

    line = json.loads(stream.getvalue())
    assert "correlation_id" not in line
    assert "event_id" not in line
    assert line["message"] == "no ids here"


class FlakyBroker:
    """Answers pings as told: away once, then back."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers

    async def ping(self, _timeout: float) -> bool:
        if not self.answers:
            await asyncio.sleep(3600)
        return self.answers.pop(0)


@pytest.mark.asyncio(loop_scope="session")
async def test_kafka_answering_again_is_info_and_going_away_a_warning(
    metrics: ServiceMetrics, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lobu.shared.kafka")
    broker: Any = FlakyBroker([False, True])
    connection = KafkaConnection(broker, bootstrap_servers="127.0.0.1:1", metrics=metrics)

    watch = asyncio.create_task(connection._watch(interval=0, away_interval=0))
    try:
        await eventually(
            lambda: any("again" in record.getMessage() for record in caplog.records) or None,
            timeout=60, interval=0.01, what="the log line",
        )  # fmt: skip
    finally:
        watch.cancel()

    levels = {
        record.getMessage(): record.levelname
        for record in caplog.records
        if record.name == "lobu.shared.kafka"  # not what other tests' clients say meanwhile
    }
    assert levels == {"Kafka is unreachable": "WARNING", "Kafka is reachable again": "INFO"}


class Contact(BaseModel):
    email: str
    age: int
    name: str


def test_a_library_logging_a_validation_error_writes_one_line_without_its_input() -> None:
    try:
        Contact.model_validate({"email": 12, "age": "old", "name": ["eva@example.org"]})
    except ValidationError as error:
        caught = error
    stream = io.StringIO()
    logger = logging.getLogger("faststream.test-dump")
    logger.addHandler(log_handler(service="t", json=False, stream=stream))
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.error(f"ValidationError: {caught}", exc_info=caught)  # as FastStream does

    [line] = stream.getvalue().splitlines()
    assert "ValidationError: 3 invalid: email (string_type), age (int_parsing)" in line
    assert "eva@example.org" not in line
