"""The event pipeline end to end: an alliance written over HTTP, to its welcome in notifications.

Kafka, PostgreSQL and the mail sink as in the end-to-end tests; the directory and
notifications as `make run` runs them (uvicorn, one worker each, in their own
processes), each on its own PostgreSQL database; the floor
(bench/write_floor_app.py: the same request body validated, one plain INSERT) on a
third. Every alliance carries one contact, so it causes two events (created, contacts
changed) and, once notifications has joined both, one welcome delivery row.

1. **HTTP write** (`pipeline.http_write.ratio_to_floor`): `--writes` POST /alliances
   at once (`--connections` in flight) to the floor, then to the directory (with its
   relay publishing to Kafka meanwhile; notifications not started yet). Writes/s of
   the directory over the floor's.
2. **Sustained, end to end** (`pipeline.e2e.sustained_ratio_to_floor`): notifications
   starts and catches up; then `--writes` new alliances at once; the rate is writes
   over the time from the first request to the last welcome row, over the floor's
   write rate of step 1.
3. **Latency at a steady load** (`pipeline.e2e.p50_ms`, `p99_ms`): writes paced at a
   tenth of the sustained rate for `--steady-seconds`; per alliance, the time from
   sending its request to its welcome row's `created_at` (one machine, one clock).

    PYTHONPATH=. .venv/bin/python bench/pipeline_writes.py
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.http_load import Burst, Request, burst, percentile, pythonpath, started
from bench.write_floor_app import DATABASE_URL as FLOOR_DATABASE_URL
from lobu.shared.auth import Role, create_token
from lobu.shared.mailsink import MailSink
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from tests.support.kafka_server import kafka_server
from tests.support.ports import free_port
from tests.support.postgres_server import postgres_server
from tests.support.service_process import ServiceProcess

ADMIN = {"Authorization": f"Bearer {create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)}"}


def alliances(count: int, tag: str) -> list[Request]:
    """`count` new alliances with one contact each."""
    return [
        Request("/alliances", {
            "name": f"Lokales Bündnis für Familie Pipeline {tag} {n}", "state": "Niedersachsen",
            "postal_code": "30159", "city": "Hannover", "topics": ["Kinderbetreuung"],
            "contacts": [{"name": "Jörg Weiß", "email": f"koordination.{tag}.{n}@example.org",
                          "role": "Koordination"}],
        })
        for n in range(count)
    ]  # fmt: skip


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def welcomes(database_url: str, alliance_ids: list[str]) -> dict[str, float]:
    """alliance id -> when its first delivery row was written (Unix time)."""
    connection = await asyncpg.connect(_plain(database_url))
    try:
        rows = await connection.fetch(
            "SELECT alliance_id, min(created_at) AS at FROM deliveries "
            "WHERE alliance_id = ANY($1::text[]) GROUP BY alliance_id",
            alliance_ids,
        )
    finally:
        await connection.close()
    return {row["alliance_id"]: row["at"].timestamp() for row in rows}


async def wait_for_welcomes(
    database_url: str, alliance_ids: list[str], *, within_seconds: float = 600
) -> dict[str, float]:
    """Poll until every alliance has its welcome row; raise after `within_seconds`."""
    deadline = time.monotonic() + within_seconds
    while True:
        found = await welcomes(database_url, alliance_ids)
        if len(found) == len(alliance_ids):
            return found
        if time.monotonic() > deadline:
            missing = len(alliance_ids) - len(found)
            raise RuntimeError(f"{missing} welcomes missing after {within_seconds} s")
        await asyncio.sleep(0.1)  # the poll interval of this condition wait


def ids_of(result: Burst) -> list[str]:
    """The ids the directory answered with."""
    return [str(body["id"]) for _sent, body in result.bodies]


def run(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        kafka = stack.enter_context(kafka_server(folder / "kafka"))
        postgres = stack.enter_context(postgres_server())
        directory_db = stack.enter_context(postgres.database("bench_pipeline_directory"))
        notifications_db = stack.enter_context(postgres.database("bench_pipeline_notifications"))
        floor_db = stack.enter_context(postgres.database("bench_pipeline_floor"))
        sink = MailSink(folder / "mail", port=free_port())
        sink.start()
        stack.callback(sink.stop)
        quiet = {"LOG_JSON": "false", "LOG_LEVEL": "WARNING", "ENVIRONMENT": "development",
                 "JWT_SECRET": DEVELOPMENT_JWT_SECRET}  # fmt: skip
        floor = stack.enter_context(started(ServiceProcess(
            app="bench.write_floor_app:create_app", port=free_port(),
            env={FLOOR_DATABASE_URL: floor_db, "PYTHONPATH": pythonpath()},
            log_file=folder / "floor.log",
        ), ready_path="/healthz"))  # fmt: skip
        directory = stack.enter_context(started(ServiceProcess(
            app="lobu.directory.main:create_app", port=free_port(),
            env={"LOBU_DIRECTORY_DATABASE_URL": directory_db,
                 "LOBU_DIRECTORY_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                 **{f"LOBU_DIRECTORY_{name}": value for name, value in quiet.items()}},
            log_file=folder / "directory.log",
        )))  # fmt: skip
        notifications = ServiceProcess(
            app="lobu.notifications.main:create_app", port=free_port(),
            env={"LOBU_NOTIFICATIONS_DATABASE_URL": notifications_db,
                 "LOBU_NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                 "LOBU_NOTIFICATIONS_SMTP_PORT": str(sink.port),
                 "LOBU_NOTIFICATIONS_CONSUMER_WORKERS_PER_TOPIC": str(args.workers),
                 **{f"LOBU_NOTIFICATIONS_{name}": value for name, value in quiet.items()}},
            log_file=folder / "notifications.log",
        )  # fmt: skip
        print(
            f"cores: {os.cpu_count()} (load average {os.getloadavg()[0]:.1f} before); "
            f"Kafka: {kafka.how}; PostgreSQL: {postgres.how}; uvicorn, 1 worker each; "
            f"Python {sys.version.split()[0]}\n"
            f"{args.writes:,} alliances with one contact per burst, {args.connections} "
            f"connections (httpx); {args.warmup} warm-up writes each; notifications with "
            f"{args.workers} consumer(s) per topic"
        )

        def post(url: str, requests: list[Request], **options: Any) -> Burst:
            return asyncio.run(
                burst(url, requests, args.connections, headers=ADMIN, keep_bodies=True, **options)
            )

        post(floor.url, alliances(args.warmup, "floor-warmup"))
        warmup = post(directory.url, alliances(args.warmup, "warmup"))
        base = post(floor.url, alliances(args.writes, "floor"))
        write = post(directory.url, alliances(args.writes, "write"))
        for name, result in (("one INSERT", base), ("directory", write)):
            print(f"{name:14s} {result.per_second:7,.0f} writes/s  {result.seconds:6.1f} s  "
                  f"p50 {result.percentile(0.5):6.0f} ms  p99 {result.percentile(0.99):6.0f} ms  "
                  f"answers {result.answered}")  # fmt: skip

        caught_up = time.perf_counter()  # from the process's start: it consumes while starting
        with started(notifications):
            backlog = ids_of(warmup) + ids_of(write)
            asyncio.run(wait_for_welcomes(notifications_db, backlog))
            caught_up = time.perf_counter() - caught_up
            print(f"notifications started and caught up with {len(backlog):,} alliances in "
                  f"{caught_up:.1f} s "
                  f"({len(backlog) / caught_up:,.0f} welcomes/s from a backlog)")  # fmt: skip

            flow = post(directory.url, alliances(args.writes, "flow"))
            rows = asyncio.run(wait_for_welcomes(notifications_db, ids_of(flow)))
            sustained = len(rows) / (max(rows.values()) - min(flow.sent_at))
            print(f"end to end     {sustained:7,.0f} writes/s to their welcome rows "
                  f"(HTTP answers at {flow.per_second:,.0f}/s)")  # fmt: skip

            rate = sustained / 10
            count = max(20, int(rate * args.steady_seconds))
            steady = post(directory.url, alliances(count, "steady"), rate=rate)
            rows = asyncio.run(wait_for_welcomes(notifications_db, ids_of(steady)))
            latencies = [
                (rows[str(body["id"])] - sent) * 1000 for sent, body in steady.bodies
            ]  # fmt: skip
            p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
            print(f"steady load    {rate:7,.1f} writes/s for {count} writes: write to welcome row "
                  f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(latencies):.0f} ms; "
                  f"HTTP p50 {steady.percentile(0.5):.0f} ms")  # fmt: skip
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        print(
            f"FIGURE pipeline.http_write.ratio_to_floor {write.per_second / base.per_second:.2f} x"
        )
        print(f"FIGURE pipeline.e2e.sustained_ratio_to_floor {sustained / base.per_second:.2f} x")
        print(f"FIGURE pipeline.e2e.p50_ms {p50:.0f} ms")
        print(f"FIGURE pipeline.e2e.p99_ms {p99:.0f} ms")


def main() -> None:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--steady-seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="notifications' consumers per topic")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
