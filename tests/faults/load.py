"""Writes streaming in over HTTP, as a load balancer with retries would send them.

One `POST /alliances` with one contact (a unique address, so that its welcome mail can
be told apart) every `interval` seconds, to the directory replicas in turn. A write
that fails (a killed replica, a timeout, a 409 while its Idempotency-Key is still
claimed by a dead process) is retried with the same key on the next replica until it
is accepted (201) or `give_up_after` passes. A write counts as accepted once a 201 came
back; the Idempotency-Key makes sure a retry of a write that did commit does not make
a second alliance.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field

import httpx

from lobu.shared.auth import Role, create_token
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from tests.support.service_process import ServiceProcess


@dataclass(frozen=True)
class Accepted:
    """A write the directory answered 201 to."""

    alliance_id: str
    recipient: str
    sent_at: float  # wall clock (time.time) when the first attempt went out
    accepted_at: float


@dataclass
class Load:
    """The writes of one scenario."""

    replicas: list[ServiceProcess]
    scenario: str
    interval: float = 0.5
    give_up_after: float = 240.0
    accepted: list[Accepted] = field(default_factory=list)
    refused: int = 0
    retries: int = 0
    _task: asyncio.Task[None] | None = None
    _writes: set[asyncio.Task[None]] = field(default_factory=set)
    _turn: int = 0
    _client: httpx.AsyncClient = field(init=False)

    def start(self) -> None:
        token = create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)
        self._client = httpx.AsyncClient(timeout=15, headers={"Authorization": f"Bearer {token}"})
        self._task = asyncio.create_task(self._stream())

    async def stop(self) -> None:
        """Stop sending new writes; wait for those in flight to be accepted or given up."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writes:
            await asyncio.gather(*self._writes)
        await self._client.aclose()

    async def _stream(self) -> None:
        number = 0
        while True:
            number += 1
            write = asyncio.create_task(self._write(self._client, number))
            self._writes.add(write)
            write.add_done_callback(self._writes.discard)
            await asyncio.sleep(self.interval)

    def _next_replica(self) -> ServiceProcess:
        self._turn += 1
        return self.replicas[self._turn % len(self.replicas)]

    async def _write(self, client: httpx.AsyncClient, number: int) -> None:
        recipient = f"faults-{self.scenario}-{number}-{uuid.uuid4().hex[:6]}@example.org"
        body = {
            "name": f"Bündnis {self.scenario} {number} {uuid.uuid4().hex[:6]}",
            "state": "NI", "postal_code": "29221", "city": "Celle",
            "contacts": [{"name": "Jörg Weiß", "email": recipient, "role": "Koordination"}],
        }  # fmt: skip
        key = f'"{uuid.uuid4()}"'
        sent_at = time.time()
        deadline = time.monotonic() + self.give_up_after
        while time.monotonic() < deadline:
            replica = self._next_replica()
            try:
                response = await client.post(
                    f"{replica.url}/alliances", json=body, headers={"Idempotency-Key": key}
                )
                if response.status_code == 201:
                    self.accepted.append(
                        Accepted(str(response.json()["id"]), recipient, sent_at, time.time())
                    )
                    return
            except httpx.HTTPError:
                pass
            self.retries += 1
            await asyncio.sleep(0.5)
        self.refused += 1
