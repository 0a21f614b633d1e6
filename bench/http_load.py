"""What the HTTP benchmarks share: a service process for a block, and a closed-loop burst.

A burst sends every request at once, at most `connections` in flight (httpx in the
benchmark's own process), and takes the wall time to the last answer; `paced` sends
them at a fixed rate instead (open loop), for latencies at a steady load.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.service_process import ServiceProcess

ROOT = Path(__file__).resolve().parent.parent


def pythonpath() -> str:
    """PYTHONPATH for a service process that imports the bench's own apps."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


@contextmanager
def started(process: ServiceProcess, ready_path: str = "/readyz") -> Iterator[ServiceProcess]:
    """The process, running for the block (`/healthz` when Kafka is left out on purpose)."""
    process.start(ready_path=ready_path)
    try:
        yield process
    finally:
        process.stop()


@dataclass(frozen=True)
class Request:
    """One POST of a burst."""

    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Burst:
    """What one burst measured."""

    answered: dict[int, int]  # status code -> count (0: no answer)
    seconds: float
    latencies_ms: list[float]
    sent_at: list[float]  # time.time() when each answered request was sent, in order
    bodies: list[tuple[float, Any]]  # (time.time() when sent, JSON answer) of each 2xx

    @property
    def per_second(self) -> float:
        """Answered requests per second of wall time."""
        return sum(self.answered.values()) / self.seconds

    def percentile(self, share: float) -> float:
        """A latency percentile in milliseconds."""
        return percentile(self.latencies_ms, share)


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile of `values` (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def burst(
    base_url: str,
    requests: list[Request],
    connections: int,
    *,
    headers: dict[str, str] | None = None,
    rate: float | None = None,
    keep_bodies: bool = False,
) -> Burst:
    """POST every request, at most `connections` in flight; wall time to the last answer.

    With `rate`, request n is sent at n / rate seconds after the start (an open loop:
    a slow answer does not delay the next request), so latencies are those of that load.
    `keep_bodies` keeps each successful answer's JSON with the time it was sent.
    """
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    answered: dict[int, int] = defaultdict(int)
    latencies: list[float] = []
    sent_at: list[float] = []
    bodies: list[tuple[float, Any]] = []
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=120, headers=headers
    ) as client:
        # The requests wait here, not in httpcore's pool, whose queue of waiters costs
        # time quadratic in its length (a first run with 5,000 waiting there starved the
        # servers: the client spent its CPU on the queue).
        gate = asyncio.Semaphore(connections)
        start = time.perf_counter()

        async def one(number: int, request: Request) -> None:
            if rate is not None:
                await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
            async with gate:
                began, wall = time.perf_counter(), time.time()
                try:
                    response = await client.post(request.path, json=request.body)
                except httpx.TransportError:
                    answered[0] += 1
                    return
                latencies.append((time.perf_counter() - began) * 1000)
                sent_at.append(wall)
                answered[response.status_code] += 1
                if keep_bodies and response.is_success:
                    bodies.append((wall, response.json()))

        await asyncio.gather(*(one(n, request) for n, request in enumerate(requests)))
        seconds = time.perf_counter() - start
    return Burst(dict(answered), seconds, latencies, sent_at, bodies)
