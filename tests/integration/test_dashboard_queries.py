"""Every query of the Grafana dashboard parses and returns data from a real Prometheus.

Prometheus (Debian's package, on a free port, temporary storage, 1 s scrapes) scrapes
the four services started as `make run` starts them (SQLite, the session's broker, a
mail sink) and loads alerts.yml; one alliance written in directory travels through the
pipeline (outbox, topic, three consumer groups, the welcome mail). Then each panel
query, with the dashboard's variables replaced as Grafana does for "All", must come
back without an error and with at least one series.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lobu.shared.auth import Role, create_token
from lobu.shared.mailsink import MailSink
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from lobu.shared.topics import ALL_TOPICS
from tests.support.kafka_probe import skip_backlog
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.prerequisites import missing
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
SCRAPE_SECONDS = 1
# What Grafana puts in for "All" (the variables' allValue) and for its interval variables.
SUBSTITUTES = {
    "$__rate_interval": f"{4 * SCRAPE_SECONDS}s",
    "$__interval": f"{SCRAPE_SECONDS}s",
    "$__range": "5m",
    "$job": ".*",
    "$service": ".*",
    "$instance": ".*",
}
GROUPS = ("surveys", "events", "notifications")


@dataclass
class Observed:
    """The running services and the Prometheus that scrapes them."""

    services: dict[str, ServiceProcess]
    prometheus_url: str

    def query(self, expr: str) -> dict[str, Any]:
        response = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": expr})
        answer: dict[str, Any] = response.json()
        return answer


def service_env(name: str, kafka: KafkaServer, database: Path, **extra: str) -> dict[str, str]:
    prefix = f"LOBU_{name.upper()}_"
    settings = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "ENVIRONMENT": "development",
        "JWT_SECRET": DEVELOPMENT_JWT_SECRET,
        "LOG_JSON": "false",
        "OUTBOX_POLL_SECONDS": "0.2",
        "CONSUMER_LAG_SECONDS": "1",
        **extra,
    }
    return {prefix + key: value for key, value in settings.items()}


def start_prometheus(folder: Path, services: dict[str, ServiceProcess]) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        missing("prometheus", provide="run scripts/ensure-prometheus.sh (Debian's prometheus)")
    config = {
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "evaluation_interval": "1s"},
        "rule_files": [str(ROOT / "deploy" / "prometheus" / "alerts.yml")],
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{service.port}"]}]}
            for name, service in services.items()
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    with (folder / "prometheus.log").open("ab") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=log,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prometheus exited; see {folder / 'prometheus.log'}")
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus not ready in 60 s; see {folder / 'prometheus.log'}")
            time.sleep(0.2)  # the poll interval of this condition wait
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def observed(kafka: KafkaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    folder = tmp_path_factory.mktemp("observe")
    # The session's broker holds earlier tests' records: the groups start at the ends.
    for group in GROUPS:
        asyncio.run(skip_backlog(kafka.bootstrap_servers, group, list(ALL_TOPICS)))
    sink = MailSink(folder / "mail", port=free_port())
    sink.start()
    ports = {name: free_port() for name in ("directory", "surveys", "events", "notifications")}
    extra = {
        "events": {"PUBLIC_URL": f"http://127.0.0.1:{ports['events']}"},
        "notifications": {"SMTP_PORT": str(sink.port), "DELIVERY_POLL_SECONDS": "0.2"},
    }
    services = {
        name: ServiceProcess(
            app=f"lobu.{name}.main:create_app",
            port=port,
            env=service_env(name, kafka, folder / f"{name}.db", **extra.get(name, {})),
            log_file=folder / f"{name}.log",
        )
        for name, port in ports.items()
    }
    try:
        with ThreadPoolExecutor(len(services)) as pool:
            list(pool.map(lambda service: service.start(), services.values()))
        prometheus = start_prometheus(folder, services)
        yield Observed(services, next(prometheus))
        prometheus.close()
    finally:
        for service in services.values():
            service.stop()
        sink.stop()


def substituted(expr: str) -> str:
    for variable, value in sorted(SUBSTITUTES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(variable, value)
    return expr


def dashboard_queries() -> list[tuple[str, str]]:
    found = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{path.stem}: {panel['title']}", target["expr"]))
    return found


def test_every_dashboard_query_parses_and_returns_data(observed: Observed) -> None:
    admin = {
        "Authorization": "Bearer " + create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)
    }
    written = httpx.post(
        f"{observed.services['directory'].url}/alliances",
        json={
            "name": f"Lokales Bündnis für Familie Celle {uuid.uuid4().hex[:6]}",
            "state": "NI", "postal_code": "29221", "city": "Celle",
            "contacts": [{"name": "Jörg Weiß", "email": "koordination@example.org"}],
        },
        headers=admin, timeout=30,
    )  # fmt: skip
    assert written.status_code == 201, written.text
    queries = dashboard_queries()
    assert len(queries) > 20

    # Parsing does not wait: an expression Prometheus refuses fails now.
    for title, expr in queries:
        answer = observed.query(substituted(expr))
        assert answer["status"] == "success", f"{title}: {expr}: {answer.get('error')}"

    # Data arrives as the alliance travels (outbox, topic, consumers, mail) and the
    # scrapes follow: wait until every query has a series, or name those without.
    deadline = time.monotonic() + 90
    empty = queries
    while empty:
        empty = [(t, e) for t, e in empty if not observed.query(substituted(e))["data"]["result"]]
        if empty and time.monotonic() > deadline:
            raise AssertionError(
                "queries without data after 90 s:\n" + "\n".join(f"{t}: {e}" for t, e in empty)
            )
        if empty:
            time.sleep(0.5)  # the poll interval of this condition wait

    rules = httpx.get(f"{observed.prometheus_url}/api/v1/rules").json()
    assert all(group["rules"] for group in rules["data"]["groups"])
    assert all(rule["health"] == "ok" for g in rules["data"]["groups"] for rule in g["rules"])
