"""docker-compose.yml, the Dockerfiles and the Prometheus files agree with each other and the code.

Nothing is started: no Docker engine, no network. The files are parsed and their
addresses, ports, secrets and names compared, so a renamed port, database, topic,
setting or metric fails here instead of in a `docker compose up`.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from lobu.directory.settings import DirectorySettings
from lobu.events.settings import EventsSettings
from lobu.notifications import main as notifications_main
from lobu.notifications.settings import NotificationSettings
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.topics import ALL_TOPICS, dead_letter_topic
from lobu.surveys.settings import SurveySettings

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
INFRASTRUCTURE = {"kafka", "postgres", "mailpit", "prometheus"}
KAFKA_ADDRESS = "kafka:9092"


@dataclass(frozen=True)
class AppService:
    """One of lobu's own services as compose runs it."""

    name: str
    port: int
    env_prefix: str
    settings: type[BaseSettings]

    @property
    def dockerfile(self) -> Path:
        return ROOT / "services" / self.name / "Dockerfile"


APP_SERVICES = [
    AppService("directory", 8001, "LOBU_DIRECTORY_", DirectorySettings),
    AppService("surveys", 8002, "LOBU_SURVEYS_", SurveySettings),
    AppService("events", 8003, "LOBU_EVENTS_", EventsSettings),
    AppService("notifications", 8004, "LOBU_NOTIFICATIONS_", NotificationSettings),
]
by_name = pytest.mark.parametrize("app", APP_SERVICES, ids=lambda app: app.name)


# --- reading the files ------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = load_yaml(COMPOSE_FILE)
    assert isinstance(document, dict)
    assert "version" not in document, "the Compose spec has no `version:` key"
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: str) -> str:
    """What Compose makes of `value` when none of its variables is set (the defaults)."""
    return _VARIABLE.sub(lambda m: "$" if m.group(0) == "$$" else m.group("default") or "", value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as strings, in either of Compose's two notations."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: "" if value is None else interpolate(str(value)) for key, value in raw.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency -> condition (the short list notation means `service_started`)."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


def published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) of every published port."""
    pairs = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            pairs.add((int(entry["published"]), int(entry["target"])))
        else:
            *_, host, container = str(entry).split("/")[0].split(":")
            pairs.add((int(host), int(container)))
    return pairs


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of every bind mount (relative to the compose file)."""
    found = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            source, target = entry["source"], entry["target"]
        else:
            source, target = str(entry).split(":")[:2]
        if source.startswith((".", "/")):
            found[target] = (COMPOSE_FILE.parent / source).resolve()
    return found


def dockerfile_instructions(path: Path) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    logical = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        instruction, _, arguments = logical.partition(" ")
        yield instruction.upper(), arguments.strip()
        logical = ""


def option(args: list[str], name: str) -> str:
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


# --- compose ------------------------------------------------------------------------------


def test_every_platform_service_is_defined(services: dict[str, Any]) -> None:
    expected = INFRASTRUCTURE | {app.name for app in APP_SERVICES}
    assert expected <= services.keys()


@by_name
def test_service_is_built_from_its_own_dockerfile(
    services: dict[str, Any], app: AppService
) -> None:
    build = services[app.name]["build"]
    # The context is the repository root: the Dockerfile copies constraints.txt and shared/.
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).resolve() == app.dockerfile
    assert app.dockerfile.is_file()


@by_name
def test_service_publishes_its_port(services: dict[str, Any], app: AppService) -> None:
    assert (app.port, app.port) in published_ports(services[app.name])


@by_name
def test_service_uses_its_own_database_on_the_postgres_service(
    services: dict[str, Any], app: AppService
) -> None:
    url = make_url(environment(services[app.name])[f"{app.env_prefix}DATABASE_URL"])
    postgres = environment(services["postgres"])

    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port or 5432) == ("postgres", 5432)
    assert url.database == app.name
    assert (url.username, url.password) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )
    others = {other.name for other in APP_SERVICES} - {app.name}
    assert url.database not in others


def test_postgres_init_script_creates_every_service_database(services: dict[str, Any]) -> None:
    scripts = {
        target: source
        for target, source in mounts(services["postgres"]).items()
        if target.startswith("/docker-entrypoint-initdb.d/")
    }
    assert scripts, "no init script is mounted into /docker-entrypoint-initdb.d/"
    created = set()
    for source in scripts.values():
        assert source.is_file(), f"{source} does not exist"
        sql = source.read_text(encoding="utf-8")
        created |= set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)", sql, flags=re.IGNORECASE))
    assert {app.name for app in APP_SERVICES} <= created


@by_name
def test_service_reaches_kafka_on_its_advertised_address(
    services: dict[str, Any], app: AppService
) -> None:
    assert environment(services[app.name])[f"{app.env_prefix}KAFKA_BOOTSTRAP_SERVERS"] == (
        KAFKA_ADDRESS
    )
    advertised = environment(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {listener.split("://", 1)[1] for listener in advertised.split(",")}
    assert KAFKA_ADDRESS in addresses


def test_kafka_init_creates_every_topic_and_its_dead_letter_topic(services: dict[str, Any]) -> None:
    command = interpolate(" ".join(services["kafka-init"]["command"]))
    for topic in ALL_TOPICS:
        for name in (topic, dead_letter_topic(topic)):
            assert re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", command), name
    assert depends_on(services["kafka-init"]) == {"kafka": "service_healthy"}


def test_both_services_verify_tokens_with_the_same_secret(services: dict[str, Any]) -> None:
    raw = {
        app.name: services[app.name]["environment"][f"{app.env_prefix}JWT_SECRET"]
        for app in APP_SERVICES
    }
    # The same text, so the same value whatever LOBU_JWT_SECRET is set to.
    assert len(set(raw.values())) == 1
    assert interpolate(next(iter(raw.values())))


@by_name
def test_service_waits_for_healthy_kafka_and_postgres(
    services: dict[str, Any], app: AppService
) -> None:
    conditions = depends_on(services[app.name])
    for dependency in ("kafka", "postgres"):
        assert conditions.get(dependency) == "service_healthy", dependency
        assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


@by_name
def test_service_healthcheck_calls_healthz_on_its_port(
    services: dict[str, Any], app: AppService
) -> None:
    check = " ".join(services[app.name]["healthcheck"]["test"])
    assert f"http://localhost:{app.port}/healthz" in check


def test_notifications_sends_mail_to_the_mail_catcher(services: dict[str, Any]) -> None:
    env = environment(services["notifications"])
    assert env["LOBU_NOTIFICATIONS_SMTP_HOST"] == "mailpit"
    assert env["LOBU_NOTIFICATIONS_SMTP_PORT"] == "1025"
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert depends_on(services["notifications"]).get("mailpit") == "service_healthy"


@by_name
def test_service_environment_is_valid_settings(
    services: dict[str, Any], app: AppService, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(services[app.name])
    for name in env:
        assert name.startswith(app.env_prefix), name
        field = name.removeprefix(app.env_prefix).lower()
        assert field in app.settings.model_fields, f"{name} is no setting of {app.name}"

    for name in [name for name in os.environ if name.startswith("LOBU_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings: Any = app.settings()

    assert settings.environment == "development"
    assert settings.kafka_bootstrap_servers == KAFKA_ADDRESS
    assert settings.cors_origins  # a JSON list, parsed


# --- Dockerfiles ----------------------------------------------------------------------


@by_name
def test_dockerfile_runs_the_service_app_on_the_compose_port(app: AppService) -> None:
    instructions = list(dockerfile_instructions(app.dockerfile))
    commands = [arguments for instruction, arguments in instructions if instruction == "CMD"]
    assert commands, "no CMD"
    command = json.loads(commands[-1])  # exec form, so uvicorn is PID 1 and gets SIGTERM

    assert command[:2] == ["uvicorn", f"lobu.{app.name}.main:create_app"]
    assert "--factory" in command
    # All interfaces of the container, or the published port would reach nothing.
    assert option(command, "--host") == "0.0.0.0"  # noqa: S104
    assert option(command, "--port") == str(app.port)
    exposed = {arguments for instruction, arguments in instructions if instruction == "EXPOSE"}
    assert str(app.port) in exposed


@by_name
def test_dockerfile_installs_pinned_packages_and_runs_unprivileged(app: AppService) -> None:
    instructions = list(dockerfile_instructions(app.dockerfile))
    installs = [args for instruction, args in instructions if "pip install" in args]
    assert len(installs) == 1
    install = installs[0].split()
    assert option(install, "-c") == "constraints.txt"
    assert {"./shared", f"./services/{app.name}"} <= set(install)

    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users, "runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


@by_name
def test_dockerignore_keeps_what_the_dockerfile_copies(app: AppService) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        PurePosixPath(arguments.split()[0])
        for instruction, arguments in dockerfile_instructions(app.dockerfile)
        if instruction == "COPY"
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        ignored = [p for p in patterns if fnmatch(str(source).rstrip("/"), p.rstrip("/"))]
        assert not ignored, f"{source} is excluded from the build context by {ignored}"


# --- Prometheus ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus_dir(services: dict[str, Any]) -> Path:
    # The image's default command reads /etc/prometheus/prometheus.yml.
    return mounts(services["prometheus"])["/etc/prometheus"]


@pytest.fixture(scope="module")
def prometheus_config(prometheus_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(prometheus_dir / "prometheus.yml")
    return config


@pytest.fixture(scope="module")
def alert_rules(prometheus_dir: Path, prometheus_config: dict[str, Any]) -> list[dict[str, Any]]:
    rule_files = prometheus_config["rule_files"]
    assert rule_files
    rules = []
    for name in rule_files:
        path = prometheus_dir / name  # relative to the config file, as Prometheus reads it
        assert path.is_file(), f"{path} does not exist"
        for group in load_yaml(path)["groups"]:
            rules += group["rules"]
    alerts = [rule for rule in rules if "alert" in rule]
    assert alerts
    return alerts


@by_name
def test_prometheus_scrapes_the_service(prometheus_config: dict[str, Any], app: AppService) -> None:
    jobs = {job["job_name"]: job for job in prometheus_config["scrape_configs"]}
    job = jobs[app.name]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = {target for group in job["static_configs"] for target in group["targets"]}
    assert targets == {f"{app.name}:{app.port}"}


def test_every_alert_has_an_expression_a_severity_and_a_summary(
    alert_rules: list[dict[str, Any]],
) -> None:
    for rule in alert_rules:
        assert str(rule.get("expr", "")).strip(), rule["alert"]
        assert rule.get("labels", {}).get("severity") in {"critical", "warning"}, rule["alert"]
        assert str(rule.get("annotations", {}).get("summary", "")).strip(), rule["alert"]
    names = [rule["alert"] for rule in alert_rules]
    assert len(names) == len(set(names))


def test_alerts_use_only_metrics_the_services_expose(alert_rules: list[dict[str, Any]]) -> None:
    metrics = ServiceMetrics("x")
    metrics.watch_pool(object())  # the pool's families, without samples
    exposition = generate_latest(metrics.registry).decode()
    # Families, and the series of histograms (`_bucket`, `_count`, `_sum`).
    exposed = set(re.findall(r"^# TYPE (\S+)", exposition, re.M))
    exposed |= {f"{name}{suffix}" for name in exposed for suffix in ("_bucket", "_count", "_sum")}
    # Notifications registers its own counter in its composition root.
    exposed |= set(re.findall(r"\"(lobu_\w+)\"", inspect.getsource(notifications_main)))
    used = {name for rule in alert_rules for name in re.findall(r"\blobu_\w+", rule["expr"])}
    assert used
    assert used <= exposed, f"unknown metrics: {used - exposed}"


def test_alerts_on_up_name_the_scrape_jobs(
    alert_rules: list[dict[str, Any]], prometheus_config: dict[str, Any]
) -> None:
    jobs = {job["job_name"] for job in prometheus_config["scrape_configs"]}
    for rule in alert_rules:
        for selector in re.findall(r'\bup\{job=~"([^"]+)"\}', rule["expr"]):
            assert set(selector.split("|")) == jobs, rule["alert"]
