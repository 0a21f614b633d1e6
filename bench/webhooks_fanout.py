"""Fan-out of one public fact to 50 local webhook receivers: lobu's sender against a bare
httpx sender, measured side by side in the same run.

Receivers: one uvicorn server in a thread of its own, listening on 50 loopback ports
(an ASGI app that answers 204). Floor: one `httpx.AsyncClient` posting the same body to
the 50 URLs at once (no database, no signature). lobu: the fact's 50 deliveries written
as the consumer writes them (SQLite file, the default), then `WebhookSender.send_due`
with the default policy (32 in flight, 4 per receiver): claim, SSRF check, Standard
Webhooks signature, POST, and each outcome recorded in its own transaction.

Prints `FIGURE webhooks.fanout.ratio_to_floor <median lobu time / median floor time>`.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import threading
import time
import uuid
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlmodel import SQLModel

import lobu.notifications.models  # noqa: F401  # registers the tables
from lobu.notifications.schemas import WebhookCreate
from lobu.notifications.webhook_fanout import record_webhook_deliveries, structured_body
from lobu.notifications.webhook_sender import WebhookMetrics, WebhookPolicy, WebhookSender
from lobu.notifications.webhooks import WebhookSubscriptions
from lobu.shared import Envelope
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.database import create_engine, create_session_factory

RECEIVERS = 50
LOOPBACK = (IPv4Network("127.0.0.0/8"),)


async def _answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The receivers' ASGI app: read the body, answer 204."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def start_receivers(count: int) -> tuple[list[str], uvicorn.Server]:
    sockets = []
    for _ in range(count):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        sockets.append(listener)
    server = uvicorn.Server(
        uvicorn.Config(_answer, log_level="warning", access_log=False, lifespan="off")
    )
    threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return [f"http://127.0.0.1:{s.getsockname()[1]}/hook" for s in sockets], server


def fact() -> Envelope:
    alliance = str(uuid.uuid4())
    return Envelope(
        type=ALLIANCE_CREATED,
        source="/lobu/directory",
        subject=alliance,
        data={"id": alliance, "name": "Lokales Bündnis für Familie Lüneburg", "version": 1},
    )


async def floor(client: httpx.AsyncClient, urls: list[str]) -> float:
    body = structured_body(fact())
    headers = {"content-type": "application/cloudevents+json"}
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(client.post(url, content=body, headers=headers) for url in urls)
    )
    elapsed = time.perf_counter() - started
    assert all(response.status_code == 204 for response in responses)
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    urls, server = start_receivers(RECEIVERS)
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder)}/notifications.db")
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        sessions = create_session_factory(engine)
        subscriptions = WebhookSubscriptions(sessions, allowed_networks=LOOPBACK)
        for url in urls:
            await subscriptions.create(WebhookCreate(url=url, event_types=[ALLIANCE_CREATED]))
        registry = CollectorRegistry()
        sender = WebhookSender(
            sessions,
            metrics=WebhookMetrics(
                outcomes=Counter("deliveries", "", ["channel", "status"], registry=registry),
                subscriptions=Gauge("subscriptions", "", ["status"], registry=registry),
            ),
            policy=WebhookPolicy(allowed_networks=LOOPBACK),
        )
        async with httpx.AsyncClient() as client:
            await floor(client, urls)  # warm both: connections, imports
            floors, lobus = [], []
            for _ in range(args.rounds):
                floors.append(await floor(client, urls))
                started = time.perf_counter()
                async with sessions() as session, session.begin():
                    await record_webhook_deliveries(session, fact())
                sent = await sender.send_due()
                lobus.append(time.perf_counter() - started)
                assert sent == RECEIVERS, sent
        await sender.stop()
        await engine.dispose()
    server.should_exit = True
    base, ours = statistics.median(floors), statistics.median(lobus)
    print(f"receivers: {RECEIVERS}; rounds: {args.rounds}; database: SQLite")
    print(f"floor  bare httpx, 50 posts at once        {base * 1000:8.1f} ms (median)")
    print(f"lobu   fan-out write + WebhookSender       {ours * 1000:8.1f} ms (median)")
    print(f"FIGURE webhooks.fanout.ratio_to_floor {ours / base:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
