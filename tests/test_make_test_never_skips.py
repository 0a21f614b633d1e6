"""Under `make test` (LOBU_REQUIRE_ALL=1) a missing prerequisite fails; elsewhere it skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.prerequisites import REQUIRE_ALL

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
SUITE = {
    "conftest.py": "from tests.support.prerequisites import *  # noqa: F403\n"
    "from tests.support.prerequisites import pytest_make_collect_report, "
    "pytest_runtest_makereport\n",
    "test_plain_skip.py": "import pytest\n\ndef test_it():\n    pytest.skip('no widget')\n",
    "test_missing.py": "from tests.support.prerequisites import missing\n\n"
    "def test_it():\n    missing('the widget', provide='apt-get install widget')\n",
    "test_module_skip.py": "import pytest\n\n"
    "pytest.skip('no browser', allow_module_level=True)\n\ndef test_it():\n    pass\n",
    "test_waived.py": "from tests.support.prerequisites import waived\n\n"
    "def test_it():\n    waived('the broker is external on purpose')\n",
    "test_xfail.py": "import pytest\n\n@pytest.mark.xfail(reason='known')\n"
    "def test_it():\n    assert False\n",
}


def run_suite(folder: Path, *, require_all: bool) -> str:
    """Run the little suite above in a fresh folder; its `-rA` summary."""
    folder.mkdir()
    for name, text in SUITE.items():
        (folder / name).write_text(text)
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}  # untruncated summary
    env.pop(REQUIRE_ALL, None)
    if require_all:
        env[REQUIRE_ALL] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
         "--continue-on-collection-errors"],
        cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    return result.stdout


@pytest.fixture(scope="module")
def on_a_laptop(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_suite(tmp_path_factory.mktemp("suite") / "laptop", require_all=False)


@pytest.fixture(scope="module")
def under_make_test(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_suite(tmp_path_factory.mktemp("suite") / "make-test", require_all=True)


def summary_line(output: str, text: str) -> str:
    """The `-rA` line that mentions `text` (a test file, or a skip's reason)."""
    return next(line for line in output.splitlines() if text in line and line[:1].isupper())


@pytest.mark.parametrize(
    ("test_file", "reason"),
    [
        ("test_plain_skip.py", "no widget"),
        ("test_missing.py", "the widget is missing; apt-get install widget"),
        ("test_module_skip.py", "no browser"),
    ],
)
def test_a_skip_is_a_skip_with_its_reason_on_a_developers_machine(
    on_a_laptop: str, test_file: str, reason: str
) -> None:
    assert "4 skipped" in on_a_laptop.splitlines()[-1], on_a_laptop
    assert reason in on_a_laptop


@pytest.mark.parametrize(
    ("test_file", "reason"),
    [
        ("test_plain_skip.py", "no widget"),
        ("test_missing.py", "the widget is missing; apt-get install widget"),
        ("test_module_skip.py", "no browser"),
    ],
)
def test_a_skip_fails_under_make_test_with_its_reason(
    under_make_test: str, test_file: str, reason: str
) -> None:
    line = summary_line(under_make_test, test_file)

    assert line.startswith(("FAILED", "ERROR")), under_make_test
    assert reason in line
    assert REQUIRE_ALL in line
    assert "1 skipped" in under_make_test.splitlines()[-1]  # only the waived one


def test_a_skip_the_environment_asked_for_stays_a_skip_under_make_test(
    under_make_test: str,
) -> None:
    line = summary_line(under_make_test, "the broker is external on purpose")

    assert line.startswith("SKIPPED"), under_make_test


def test_an_expected_failure_stays_an_expected_failure_under_make_test(
    under_make_test: str,
) -> None:
    assert summary_line(under_make_test, "test_xfail.py").startswith("XFAIL")
