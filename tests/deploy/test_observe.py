"""`make observe`: Prometheus with the alert rules, scraping make run's services on its ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.ports import free_port
from tests.support.prerequisites import missing

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("directory", "surveys", "events", "notifications")


def test_observe_scrapes_the_ports_of_make_run_and_loads_every_alert(tmp_path: Path) -> None:
    if shutil.which("prometheus") is None:
        missing("prometheus", provide="run scripts/ensure-prometheus.sh (Debian's prometheus)")
    ports = {f"{service.upper()}_PORT": str(free_port()) for service in SERVICES}
    port = free_port()
    env = {**os.environ, **ports, "PROMETHEUS_PORT": str(port), "OBSERVE_DIR": str(tmp_path)}
    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text(encoding="utf-8"))
    expected = {rule["alert"] for group in alerts["groups"] for rule in group["rules"]}

    with (tmp_path / "observe.log").open("wb") as log:
        process = subprocess.Popen(
            ["scripts/observe.sh"], cwd=ROOT, env=env, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        targets: list[dict[str, Any]] = []
        while len(targets) < len(SERVICES):  # discovered shortly after it is ready
            assert process.poll() is None, (tmp_path / "observe.log").read_text()
            try:
                answer = httpx.get(f"{url}/api/v1/targets", timeout=2)
                if answer.status_code == 200:
                    targets = answer.json()["data"]["activeTargets"]
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "make observe's Prometheus: no targets in 60 s"
            time.sleep(0.2)  # the poll interval of this condition wait
        rules = httpx.get(f"{url}/api/v1/rules").json()["data"]["groups"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

    scraped = {target["labels"]["job"]: target["scrapeUrl"] for target in targets}
    assert scraped == {
        service: f"http://127.0.0.1:{ports[f'{service.upper()}_PORT']}/metrics"
        for service in SERVICES
    }
    assert {rule["name"] for group in rules for rule in group["rules"]} == expected


def test_observe_refuses_a_taken_port_by_its_variable(tmp_path: Path) -> None:
    if shutil.which("prometheus") is None:
        missing("prometheus", provide="run scripts/ensure-prometheus.sh (Debian's prometheus)")
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = {**os.environ, "PROMETHEUS_PORT": str(taken), "OBSERVE_DIR": str(tmp_path)}
        result = subprocess.run(
            ["scripts/observe.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert "PROMETHEUS_PORT" in result.stderr
