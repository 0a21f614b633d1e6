"""The fault suite's short version, in `make test`: on one broker, the active relay's
directory replica and a notifications replica are SIGKILLed while writes stream in;
the other replicas take over, nothing accepted is lost and no mail doubled."""

from __future__ import annotations

import pytest

from tests.faults import scenario
from tests.faults.figures import now
from tests.faults.replicas import Replicas

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_replica_kill_short(single_broker_replicas: Replicas) -> None:
    replicas = single_broker_replicas

    async def fault() -> dict[str, float]:
        relay = await scenario.active_relay(replicas)
        pid = relay.pid
        killed = now()
        await scenario.kill_replica(relay)
        await scenario.kill_replica(replicas.notifications[0])
        takeover = await scenario.takeover_after(replicas, pid, killed)
        return {"takeover_s": takeover}  # the killed replicas stay down: the test ends

    figures = await scenario.run("replica_kill_short", replicas, fault, warmup=5, after=8)
    assert figures["accepted"] > 0
    assert (figures["refused"], figures["lost"], figures["duplicated"]) == (0, 0, 0)
    assert figures["takeover_s"] < 15
