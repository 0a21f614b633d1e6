"""Missing prerequisites: a clear skip on a developer's machine, a failure under `make test`.

`make test` exports `LOBU_REQUIRE_ALL=1`: it provides every prerequisite itself
(PostgreSQL, Chromium, the local broker, the committed schemas), so a test that cannot
run there means the build is broken, not that the test may be left out. The two hooks
below (imported by tests/conftest.py) turn every skip into a failure under that
marker, including skips written without `missing()`; xfail is left alone, and so is a
skip the environment asks for explicitly (`waived()`, e.g. LOBU_TEST_KAFKA_EXTERNAL=1).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any, NoReturn

import pytest

REQUIRE_ALL = "LOBU_REQUIRE_ALL"
# The reason of a skip that the environment asked for explicitly (e.g. an external
# broker that cannot be stopped): the one skip `make test` lets through.
WAIVED = "waived by the environment: "


# Read once, when the test session loads this module: fixtures that clear LOBU_*
# variables for the code under test (tests/shared/conftest.py) must not switch it off.
_REQUIRED_ALL = os.environ.get(REQUIRE_ALL, "") not in ("", "0")


def required_all() -> bool:
    """True under `make test`: nothing may be skipped for want of a prerequisite."""
    return _REQUIRED_ALL


def missing(what: str, *, provide: str) -> NoReturn:
    """Skip the test because `what` is missing (fail under `make test`); `provide` says how."""
    message = f"{what} is missing; {provide}"
    if required_all():
        pytest.fail(f"{message} ({REQUIRE_ALL}=1: make test never skips)", pytrace=False)
    pytest.skip(message)


def waived(reason: str) -> NoReturn:
    """Skip the test because the environment says on purpose that it cannot run here."""
    pytest.skip(f"{WAIVED}{reason}")


def _skip_reason(report: Any) -> str:
    return str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)


def _as_failure(report: Any, where: str) -> None:
    reason = _skip_reason(report)
    report.outcome = "failed"
    report.longrepr = (
        f"{where} was skipped, but {REQUIRE_ALL}=1 (make test) allows no skip: {reason}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Under `make test`, a test that skipped fails with the skip's reason."""
    outcome = yield
    report = outcome.get_result()
    if (
        required_all()
        and report.skipped
        and not hasattr(report, "wasxfail")
        and WAIVED not in _skip_reason(report)
    ):
        _as_failure(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    """Under `make test`, a module that skipped itself (allow_module_level) fails."""
    outcome = yield
    report = outcome.get_result()
    if required_all() and report.skipped:
        _as_failure(report, collector.nodeid)
