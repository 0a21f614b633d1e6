"""Fixtures of the fault suite: the three-broker cluster and two replicas of each service.

The full scenarios (marker `faults`, `make faults`) run against the local cluster;
the short one (marker `e2e`, in `make test`) against a single broker of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.cluster import Cluster, local_cluster
from tests.faults.replicas import Replicas, running_replicas
from tests.support.kafka_server import KafkaServer, kafka_server
from tests.support.postgres_server import PostgresServer


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three KRaft nodes, the declared topics with three replicas, min.insync.replicas=2."""
    with local_cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


@pytest.fixture(scope="package")
def cluster_replicas(
    cluster: Cluster, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    """Two directory and two notifications processes on PostgreSQL and the cluster."""
    folder = tmp_path_factory.mktemp("replicas")
    with running_replicas(postgres, cluster.bootstrap_servers, folder) as replicas:
        yield replicas


@pytest.fixture(scope="package")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """A broker of the short scenario's own (this overrides the session's)."""
    with kafka_server(tmp_path_factory.mktemp("kafka-faults")) as server:
        yield server


@pytest.fixture(scope="package")
def single_broker_replicas(
    kafka: KafkaServer, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    """Two replicas of each service on one broker (the short scenario)."""
    folder = tmp_path_factory.mktemp("replicas-short")
    with running_replicas(postgres, kafka.bootstrap_servers, folder) as replicas:
        yield replicas
