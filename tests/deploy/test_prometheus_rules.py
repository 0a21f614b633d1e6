"""The alert rules are valid, and each one fires and stays quiet when its unit tests say.

`promtool check rules` and `promtool test rules tests/*.yml` (run from
deploy/prometheus/, as the rule tests name `../alerts.yml`); every alert has at least
one test case in which it fires, and a runbook section in docs/operations.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.prerequisites import missing

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        missing("promtool", provide="run scripts/ensure-prometheus.sh (Debian's prometheus)")
    return found


def alerts() -> list[dict[str, object]]:
    document = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120
    )


def test_promtool_checks_the_rules_and_the_config() -> None:
    rules = run("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = run("check", "config", "--syntax-only", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_passes_its_promtool_unit_tests() -> None:
    assert RULE_TESTS
    result = run("test", "rules", *(str(path.relative_to(PROMETHEUS_DIR)) for path in RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_does_not() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {str(rule["alert"]) for rule in alerts()}
    assert names - fires == set(), "alerts no test sees firing"
    # Each firing case lists every alert it expects, so the other series of the case
    # (a healthy service) is shown quiet; an explicit empty check is needed as well.
    assert names - quiet == set(), "alerts no test shows quiet"


def test_every_alert_has_a_runbook_section() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    headings = {
        re.sub(r"[^a-z0-9]", "", line.lstrip("#").strip().lower())
        for line in operations.splitlines()
        if line.startswith("### ")
    }
    for rule in alerts():
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        anchor = str(rule["alert"]).lower()
        assert annotations.get("runbook_url") == f"docs/operations.md#{anchor}", rule["alert"]
        assert anchor in headings, f"docs/operations.md has no section '### {rule['alert']}'"
