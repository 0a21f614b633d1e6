"""The fault suite (`make faults`): faults strike the three-broker cluster and the service
replicas while writes stream in over HTTP; nothing accepted is lost, no effect doubled.

Each scenario prints its figures (`FIGURE faults.<scenario>.<measure> <value> <unit>`,
definitions in tests/faults/figures.py) and then asserts 0 lost and 0 duplicated.
The scenarios share one cluster and one set of replicas, each with its own writes.
"""

from __future__ import annotations

import asyncio

import pytest

from lobu.shared.topics import DIRECTORY_ALLIANCE
from tests.faults import scenario
from tests.faults.cluster import Cluster
from tests.faults.figures import Figures, now
from tests.faults.replicas import Replicas

pytestmark = [pytest.mark.faults, pytest.mark.asyncio(loop_scope="session")]


def assert_nothing_lost_or_doubled(figures: Figures) -> None:
    assert figures["accepted"] > 0
    assert figures["refused"] == 0
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0


async def test_leader_kill(cluster: Cluster, cluster_replicas: Replicas) -> None:
    """SIGKILL the broker leading partition 0 of the alliance topic; start it 15 s later."""

    async def fault() -> dict[str, float]:
        leader = await cluster.leader(DIRECTORY_ALLIANCE, 0)
        await asyncio.to_thread(cluster.kill_broker, leader)
        await asyncio.sleep(15)  # the cluster runs on two nodes meanwhile
        started = now()
        await asyncio.to_thread(cluster.start_broker, leader)
        return {"broker_restart_s": now() - started}

    assert_nothing_lost_or_doubled(await scenario.run("leader_kill", cluster_replicas, fault))


async def test_replica_kill(cluster: Cluster, cluster_replicas: Replicas) -> None:
    """SIGKILL a directory replica (not the relay) and a notifications replica mid-batch."""

    async def fault() -> dict[str, float]:
        relay = await scenario.active_relay(cluster_replicas)
        [directory] = [d for d in cluster_replicas.directories if d is not relay]
        notifications = cluster_replicas.notifications[0]
        await scenario.kill_replica(directory)
        await scenario.kill_replica(notifications)
        await asyncio.sleep(10)  # the survivors carry the load meanwhile
        return {
            "restart_s": await scenario.restart_replica(directory)
            + await scenario.restart_replica(notifications)
        }

    assert_nothing_lost_or_doubled(await scenario.run("replica_kill", cluster_replicas, fault))


async def test_cluster_stop(cluster: Cluster, cluster_replicas: Replicas) -> None:
    """Stop all three brokers, keep them down 30 s, start them again."""

    async def fault() -> dict[str, float]:
        stopping = now()
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(30)
        starting = now()
        await asyncio.to_thread(cluster.start)
        return {"outage_s": now() - stopping, "cluster_start_s": now() - starting}

    figures = await scenario.run("cluster_stop", cluster_replicas, fault, settle_timeout=420)
    assert_nothing_lost_or_doubled(figures)


async def test_relay_kill(cluster: Cluster, cluster_replicas: Replicas) -> None:
    """SIGKILL the directory replica whose relay publishes; the other one takes over."""

    async def fault() -> dict[str, float]:
        relay = await scenario.active_relay(cluster_replicas)
        pid = relay.pid
        killed = now()
        await scenario.kill_replica(relay)
        takeover = await scenario.takeover_after(cluster_replicas, pid, killed)
        return {"takeover_s": takeover, "restart_s": await scenario.restart_replica(relay)}

    figures = await scenario.run("relay_kill", cluster_replicas, fault)
    assert_nothing_lost_or_doubled(figures)
    assert figures["takeover_s"] < 15
