"""The Grafana dashboard and its provisioning agree with docker-compose.yml and the rules.

Static, as test_compose_wiring.py: no Grafana runs here. That every panel's query
parses and returns data is tested against a real Prometheus in
tests/integration/test_dashboard_queries.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
SERVICES = ("directory", "surveys", "events", "notifications")
# What panel queries may use (Grafana's variables of the minimum interface).
ALLOWED_VARIABLES = {"job", "service", "instance", "__rate_interval", "__interval", "__range"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def grafana_service() -> dict[str, Any]:
    service: dict[str, Any] = load_yaml(ROOT / "docker-compose.yml")["services"]["grafana"]
    return service


def bind_mounts(service: dict[str, Any]) -> dict[str, Path]:
    found = {}
    for entry in service.get("volumes") or []:
        source, target = str(entry).split(":")[:2]
        if source.startswith("."):
            found[target] = (ROOT / source).resolve()
    return found


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # panels of a collapsed row
    return found


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])]


@pytest.fixture(scope="module", params=DASHBOARDS, ids=lambda path: path.name)
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(Path(request.param).read_text(encoding="utf-8"))
    return loaded


def test_compose_provisions_the_data_source_and_the_dashboards() -> None:
    service = grafana_service()
    mounts = bind_mounts(service)
    assert mounts["/etc/grafana/provisioning"] == (GRAFANA / "provisioning").resolve()
    providers = load_yaml(GRAFANA / "provisioning" / "dashboards" / "lobu.yml")["providers"]
    paths = {provider["options"]["path"] for provider in providers}
    assert all(mounts[path] == (GRAFANA / "dashboards").resolve() for path in paths)
    assert "prometheus" in (service.get("depends_on") or [])
    home = service["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    assert home is None or Path(home).parent.as_posix() in paths


def test_the_data_source_is_compose_prometheus() -> None:
    compose = load_yaml(ROOT / "docker-compose.yml")["services"]["prometheus"]
    ports = {str(entry).split(":")[-1] for entry in compose.get("ports") or []}
    (source,) = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    assert source["url"] in {f"http://prometheus:{port}" for port in ports}


def test_every_panel_uses_the_provisioned_data_source(dashboard: dict[str, Any]) -> None:
    (source,) = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")[
        "datasources"
    ]
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]


def test_queries_use_only_the_allowed_variables_with_regex_matchers(
    dashboard: dict[str, Any],
) -> None:
    for expr in queries(dashboard):
        used = set(re.findall(r"\$\{?(\w+)", expr))
        assert used <= ALLOWED_VARIABLES, expr
        # $job, $service and $instance may stand for several values ("All"): only =~.
        for name in ("job", "service", "instance"):
            for matcher in re.findall(rf'(\w+)\s*(=~|!~|!=|=)\s*"\$\{{?{name}\}}?"', expr):
                assert matcher == (name, "=~"), expr
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert variables == {"job", "service", "instance"}


def test_one_row_per_service_and_one_for_the_pipeline(dashboard: dict[str, Any]) -> None:
    rows = [panel["title"].lower() for panel in dashboard["panels"] if panel["type"] == "row"]
    assert rows[0].startswith("pipeline")
    for service in SERVICES:
        assert service in rows, rows
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))


def test_panel_queries_name_only_metrics_lobu_exposes(dashboard: dict[str, Any]) -> None:
    exposed = {
        name
        for path in (ROOT / "shared" / "src" / "lobu" / "shared").glob("*.py")
        for name in re.findall(r"\"(lobu_\w+)\"", path.read_text(encoding="utf-8"))
    }
    notifications = ROOT / "services" / "notifications" / "src" / "lobu" / "notifications"
    exposed |= set(re.findall(r"\"(lobu_\w+)\"", (notifications / "main.py").read_text()))
    for expr in queries(dashboard):
        for name in re.findall(r"\blobu_\w+", expr):
            assert name.removesuffix("_bucket") in exposed, expr
