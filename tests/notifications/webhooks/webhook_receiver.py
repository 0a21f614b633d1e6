"""A real webhook receiver for the tests: uvicorn + starlette on a free loopback port.

Each path is one receiver (`/a`, `/b`, ...). It records every request (headers, raw
body) and answers what the test told that path: a status per request, or waits at a
gate (a slow receiver) until the test opens it. Verification is the receiver's side
of the Standard Webhooks specification: the `standardwebhooks` library.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.ports import free_port


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes

    def verifies_with(self, secret: str) -> bool:
        """True when `standardwebhooks` accepts the request under `secret`."""
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True

    @property
    def signatures(self) -> list[str]:
        return self.headers["webhook-signature"].split(" ")


@dataclass
class Receivers:
    """The server's state: what arrived, and how each path answers."""

    url: str
    received: list[Received] = field(default_factory=list)
    # Statuses a path answers, in turn (the last one repeats); 200 when none is given.
    answers: dict[str, list[int]] = field(default_factory=dict)
    # Paths that wait until their gate is set (slow receivers), and how many wait now.
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)

    def at(self, path: str) -> str:
        return f"{self.url}{path}"

    def of(self, path: str) -> list[Received]:
        return [each for each in self.received if each.path == path]

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        gate = self.gates.get(path)
        if gate is not None:
            self.waiting[path] = self.waiting.get(path, 0) + 1
            try:
                await gate.wait()
            finally:
                self.waiting[path] -= 1
        self.received.append(Received(path=path, headers=dict(request.headers), body=body))
        statuses = self.answers.get(path) or [200]
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return Response(status_code=status)


@asynccontextmanager
async def running_receivers() -> AsyncIterator[Receivers]:
    """Start the receiver server in this event loop; stop it afterwards."""
    port = free_port()
    receivers = Receivers(url=f"http://127.0.0.1:{port}")
    app = Starlette(routes=[Route("/{name:path}", receivers.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield receivers
    finally:
        for gate in receivers.gates.values():
            gate.set()
        server.should_exit = True
        await task
