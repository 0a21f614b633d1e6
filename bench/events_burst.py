"""An Aktionstag morning: 5,000 registrations at once for capacity-limited actions.

The events service runs as `make run` runs it (uvicorn, one worker, in its own process)
on PostgreSQL; Kafka is left out (127.0.0.1:1, where nothing listens: registering
writes its outbox rows, which wait, as they do whenever Kafka is away). An edition
with `--actions` published actions of `--capacity` seats each is entered through the
API; then `--requests` registrations of 1 to 3 seats (Zipf-like: a few actions get
most of them, as popular ones do) are sent at once, `--connections` at a time, and
the wall time until the last answer gives registrations per second.

The floor is `create_bare_app` below: a bare FastAPI endpoint that validates the same
body (`RegistrationCreate`) and does one INSERT into its own PostgreSQL database of
the same server, served by the same uvicorn in the same way, measured in the same run
with the same client, right before the service. The ratio service/floor is the figure
to watch; the absolute rates depend on the machine (and the client, httpx in one
process, shares it).

Afterwards every action is checked: confirmed seats never above capacity and equal to
its counter, every answered request stored once, and no waiting request that would fit
into the seats left. `FIGURE events.burst.oversold` counts confirmed registrations
beyond capacity (must be 0).

    PYTHONPATH=. .venv/bin/python bench/events_burst.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from bench.http_load import Request, burst, pythonpath, started
from lobu.events.models import AllianceReplica
from lobu.events.schemas import RegistrationCreate
from lobu.shared.auth import Role, create_token
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from tests.support.ports import free_port
from tests.support.postgres_server import postgres_server
from tests.support.service_process import ServiceProcess

YEAR = 2027
ADMIN = {"Authorization": f"Bearer {create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)}"}
FIRST_NAMES = ["Jürgen", "Anna-Lena", "Özlem", "Søren", "Grete", "Josef", "Marie", "Ümit"]
LAST_NAMES = ["Weiß", "Müller", "Öztürk", "Schäfer", "Kowalski", "Nguyen", "Groß", "Bäcker"]

# --- the floor: one INSERT per request ---------------------------------------------------


INSERT = text("INSERT INTO floor_registrations VALUES (:id, :action, :name, :email, :seats)")


def create_bare_app() -> FastAPI:
    """The floor: validate the registration body, INSERT one row, answer 201."""
    engine = create_engine(os.environ["BENCH_FLOOR_DATABASE_URL"])

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.execute(text(
                "CREATE TABLE IF NOT EXISTS floor_registrations (id varchar(36) PRIMARY KEY, "
                "action_id varchar(36) NOT NULL, name varchar(200) NOT NULL, "
                "email varchar(320) NOT NULL, seats integer NOT NULL)"
            ))  # fmt: skip
        yield
        await engine.dispose()

    app = FastAPI(title="one INSERT", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/actions/{action_id}/registrations", status_code=201)
    async def register(action_id: str, body: RegistrationCreate) -> dict[str, Any]:
        registration_id = str(uuid.uuid4())
        async with engine.begin() as connection:
            await connection.execute(
                INSERT,
                {"id": registration_id, "action": action_id, "name": body.name,
                 "email": str(body.email), "seats": body.seats},
            )  # fmt: skip
        return {"id": registration_id, "action_id": action_id, "status": "confirmed"}

    return app


# --- the run -------------------------------------------------------------------------------


def requests_for(action_ids: list[str], count: int, seed: int) -> list[Request]:
    """`count` registrations: actions Zipf-like (rank r gets 1/r), 1–3 seats, German names."""
    rng = random.Random(seed)
    weights = [1 / rank for rank in range(1, len(action_ids) + 1)]
    chosen = rng.choices(action_ids, weights=weights, k=count)
    return [
        Request(f"/actions/{action_id}/registrations", {
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "email": f"teilnehmer.{number}@example.org",
            "seats": rng.choice((1, 1, 2, 2, 3)),
        })
        for number, action_id in enumerate(chosen)
    ]  # fmt: skip


def enter_actions(url: str, alliance_id: str, *, count: int, capacity: int) -> list[str]:
    """An edition and `count` published actions with `capacity` seats, through the API."""
    with httpx.Client(base_url=url, headers=ADMIN, timeout=30) as client:
        client.post("/editions", json={"year": YEAR}).raise_for_status()
        ids = []
        for number in range(count):
            body = {
                "alliance_id": alliance_id, "title": f"Familienfest Nummer {number}",
                "starts_at": f"{YEAR}-05-15T10:00:00+02:00",
                "ends_at": f"{YEAR}-05-15T16:00:00+02:00", "city": "Lüneburg",
                "postal_code": "21335", "latitude": 53.2464, "longitude": 10.4115,
                "capacity": capacity, "registration_required": True,
            }  # fmt: skip
            created = client.post(f"/editions/{YEAR}/actions", json=body)
            created.raise_for_status()
            action_id = created.json()["id"]
            for step in ("submit", "publish"):
                client.post(f"/actions/{action_id}/{step}").raise_for_status()
            ids.append(action_id)
        return ids


async def seed_alliance(database_url: str) -> str:
    """One alliance in the service's replica, as its consumer would have put it."""
    alliance_id = str(uuid.uuid4())
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            session.add(
                AllianceReplica(
                    id=alliance_id, slug="buendnis-lueneburg", state="NI", city="Lüneburg",
                    name="Lokales Bündnis für Familie Lüneburg", postal_code="21335", version=1,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()
    return alliance_id


@dataclass(frozen=True)
class Audit:
    """What the database holds after the burst."""

    registrations: int
    confirmed: int
    waitlisted: int
    oversold: int  # confirmed registrations beyond capacity
    counter_mismatches: int  # actions whose seats_taken is not their confirmed seats
    fitting_waiters: int  # waiting requests that would fit into the seats left


async def audit(database_url: str, action_ids: list[str]) -> Audit:
    """Check every action: capacity, counter, waiting list."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            actions = {
                row.id: row for row in (await connection.execute(
                    text("SELECT id, capacity, seats_taken FROM actions WHERE id = ANY(:ids)"),
                    {"ids": action_ids},
                )).all()
            }  # fmt: skip
            rows = (await connection.execute(
                text("SELECT action_id, status, seats, arrival FROM registrations "
                     "WHERE action_id = ANY(:ids) ORDER BY action_id, arrival"),
                {"ids": action_ids},
            )).all()  # fmt: skip
    finally:
        await engine.dispose()
    by_action: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_action[row.action_id].append(row)
    oversold = mismatches = fitting = 0
    for action_id, action in actions.items():
        taken = 0
        for row in by_action[action_id]:
            if row.status == "confirmed":
                taken += row.seats
                oversold += taken > action.capacity
        mismatches += taken != action.seats_taken
        free = action.capacity - taken
        fitting += sum(
            1 for r in by_action[action_id] if r.status == "waitlisted" and r.seats <= free
        )
    return Audit(
        registrations=len(rows),
        confirmed=sum(r.status == "confirmed" for r in rows),
        waitlisted=sum(r.status == "waitlisted" for r in rows),
        oversold=oversold, counter_mismatches=mismatches, fitting_waiters=fitting,
    )  # fmt: skip


def run(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        postgres = stack.enter_context(postgres_server())
        events_url = stack.enter_context(postgres.database("bench_events"))
        floor_url = stack.enter_context(postgres.database("bench_floor"))
        port = free_port()
        events = stack.enter_context(started(ServiceProcess(
            app="lobu.events.main:create_app", port=port,
            env={
                "LOBU_EVENTS_DATABASE_URL": events_url,
                "LOBU_EVENTS_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                "LOBU_EVENTS_ENVIRONMENT": "development",
                "LOBU_EVENTS_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
                "LOBU_EVENTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "LOBU_EVENTS_LOG_JSON": "false", "LOBU_EVENTS_LOG_LEVEL": "WARNING",
                "LOBU_EVENTS_REMINDER_INTERVAL_SECONDS": "0", "PYTHONPATH": pythonpath(),
            },
            log_file=folder / "events.log",
        ), ready_path="/healthz"))  # fmt: skip
        floor = stack.enter_context(started(ServiceProcess(
            app="bench.events_burst:create_bare_app", port=free_port(),
            env={"BENCH_FLOOR_DATABASE_URL": floor_url, "PYTHONPATH": pythonpath()},
            log_file=folder / "floor.log",
        ), ready_path="/healthz"))  # fmt: skip
        alliance_id = asyncio.run(seed_alliance(events_url))
        action_ids = enter_actions(events.url, alliance_id, count=args.actions + 1,
                                   capacity=args.capacity)  # fmt: skip
        warmup_action, action_ids = action_ids[0], action_ids[1:]
        warmup = requests_for([warmup_action], args.warmup, args.seed + 1)
        load = requests_for(action_ids, args.requests, args.seed)
        print(
            f"cores: {os.cpu_count()} (load average {os.getloadavg()[0]:.1f} before); "
            f"PostgreSQL ({postgres.how}); uvicorn, 1 worker each; "
            f"Python {sys.version.split()[0]}\n"
            f"burst: {args.requests:,} registrations (1–3 seats) for {args.actions} actions of "
            f"{args.capacity} seats ({args.actions * args.capacity:,} seats), Zipf-like, "
            f"{args.connections} connections (httpx); {args.warmup} warm-up requests each; "
            "Kafka: none (127.0.0.1:1)"
        )
        asyncio.run(burst(floor.url, warmup, args.connections))
        asyncio.run(burst(events.url, warmup, args.connections))
        base = asyncio.run(burst(floor.url, load, args.connections))
        app = asyncio.run(burst(events.url, load, args.connections))
        checked = asyncio.run(audit(events_url, action_ids))
        for name, result in (("one INSERT", base), ("events service", app)):
            print(f"{name:15s} {result.per_second:7,.0f} registrations/s  {result.seconds:6.1f} s  "
                  f"p50 {result.percentile(0.5):6.0f} ms  p99 {result.percentile(0.99):6.0f} ms  "
                  f"answers {result.answered}")  # fmt: skip
        print(
            f"stored: {checked.registrations:,} registrations ({checked.confirmed:,} confirmed, "
            f"{checked.waitlisted:,} waiting); counters off: {checked.counter_mismatches}; "
            f"waiting requests that would fit: {checked.fitting_waiters}; "
            f"load average after: {os.getloadavg()[0]:.1f}"
        )
        if checked.registrations != app.answered.get(201, 0):
            print("MISMATCH: answered 201s and stored registrations differ", file=sys.stderr)
        print(f"FIGURE events.burst.ratio_to_floor {app.per_second / base.per_second:.3f} x")
        print(f"FIGURE events.burst.oversold {checked.oversold} registrations")
        if checked.oversold or checked.counter_mismatches or checked.fitting_waiters:
            sys.exit("the burst broke a rule of the waiting list")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--actions", type=int, default=50)
    parser.add_argument("--capacity", type=int, default=40)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20270515)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
