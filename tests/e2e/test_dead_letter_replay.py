"""Operators replay dead letters to the topic they came from, as they first arrived."""

from __future__ import annotations

import uuid

import pytest

from lobu.shared.cli import main as lobu_cli
from lobu.shared.dead_letter import dead_letter_record
from lobu.shared.replay import read_dead_letters, replay_dead_letters
from tests.support.kafka_probe import publish_raw, read_topic
from tests.support.kafka_server import KafkaServer

pytestmark = pytest.mark.integration


@pytest.mark.asyncio(loop_scope="session")
async def test_replay_puts_dead_letters_back_without_the_dlq_headers(kafka: KafkaServer) -> None:
    topic = f"test.replay-{uuid.uuid4().hex[:8]}"
    letter = dead_letter_record(
        headers=[("ce_type", b"lobu.directory.alliance.created.v1"), ("ce_id", b"e-1")],
        key=b"alliance-1",
        value=b'{"id": "alliance-1"}',
        consumer="notifications",
        topic=topic,
        partition=0,
        offset=41,
        reason="failed",
        error="RuntimeError('database constraint')",
    )
    await publish_raw(
        kafka.bootstrap_servers,
        f"{topic}.dlq",
        value=letter.value,
        key=letter.key,
        headers=letter.headers,
    )

    shown = await read_dead_letters(f"{topic}.dlq", bootstrap_servers=kafka.bootstrap_servers)
    replayed = await replay_dead_letters(f"{topic}.dlq", bootstrap_servers=kafka.bootstrap_servers)
    again = await replay_dead_letters(f"{topic}.dlq", bootstrap_servers=kafka.bootstrap_servers)

    assert shown[0]["reason"] == "failed"
    assert shown[0]["original-offset"] == "41"
    assert replayed == 1
    assert again == 0  # the replay group committed its progress
    records = await read_topic(kafka.bootstrap_servers, topic)
    assert len(records) == 1
    assert records[0].key == b"alliance-1"
    assert records[0].value == b'{"id": "alliance-1"}'
    assert records[0].headers == {
        "ce_type": b"lobu.directory.alliance.created.v1",
        "ce_id": b"e-1",
    }


def test_the_cli_prints_a_token_for_each_role(capsys: pytest.CaptureFixture[str]) -> None:
    assert lobu_cli(["token", "--role", "admin"]) == 0
    assert capsys.readouterr().out.count(".") == 2  # header.payload.signature
    assert lobu_cli(["token", "--role", "alliance"]) == 2  # an alliance token needs its id
    assert lobu_cli(["token", "--role", "alliance", "--alliance-id", "a-1"]) == 0
