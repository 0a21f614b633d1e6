"""deploy/local/kafka.sh fetches the broker's jars once, even when several starts run
at once (each pytest-xdist worker starts a broker of its own). Two Maven runs copying
into one folder corrupted each other's jars on a machine with an empty Maven cache;
here a stand-in `mvn` on PATH records whether two copies ever overlapped.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[2]

# Stands in for Maven's copy-dependencies: notes every run, notes an overlap when
# another run is still copying, takes a while, then writes one jar (or fails).
FAKE_MVN = """#!/usr/bin/env bash
set -eu
log="$FAKE_MVN_LOG"
echo run >> "$log/runs"
if ! mkdir "$log/copying" 2>/dev/null; then echo overlap >> "$log/overlaps"; fi
sleep 1
rmdir "$log/copying" 2>/dev/null || true
if [ -n "${FAKE_MVN_FAIL:-}" ]; then echo "could not resolve" >&2; exit 1; fi
for arg in "$@"; do
  case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}" ;; esac
done
echo jar > "$out/kafka.jar"
"""


def fetch_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    mvn = bin_dir / "mvn"
    mvn.write_text(FAKE_MVN)
    mvn.chmod(0o755)
    log = tmp_path / "log"
    log.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_MVN_LOG": str(log),
        "KAFKA_LIBS_DIR": str(tmp_path / "libs"),
        **extra,
    }


def start_fetch(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["deploy/local/kafka.sh", "fetch"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_three_fetches_at_once_copy_the_jars_once_and_all_succeed(tmp_path: Path) -> None:
    env = fetch_environment(tmp_path)

    fetches = [start_fetch(env) for _ in range(3)]
    results = [(fetch.wait(timeout=60), fetch.communicate()) for fetch in fetches]

    assert [code for code, _ in results] == [0, 0, 0], results
    assert (tmp_path / "log/runs").read_text().count("run") == 1
    assert not (tmp_path / "log/overlaps").exists()
    libs = tmp_path / "libs"
    assert (libs / ".complete").exists()
    assert (libs / "kafka.jar").read_text() == "jar\n"
    assert [path.name for path in tmp_path.iterdir() if ".partial" in path.name] == []


def test_a_failed_fetch_keeps_nothing_and_the_next_one_fetches_again(tmp_path: Path) -> None:
    failed = start_fetch(fetch_environment(tmp_path, FAKE_MVN_FAIL="1"))
    _, stderr = failed.communicate(timeout=60)

    assert failed.returncode == 1
    assert "nothing was kept" in stderr
    assert not (tmp_path / "libs").exists()

    retried = start_fetch(fetch_environment(tmp_path))
    retried.communicate(timeout=60)

    assert retried.returncode == 0
    assert (tmp_path / "libs/.complete").exists()
    assert (tmp_path / "log/runs").read_text().count("run") == 2
