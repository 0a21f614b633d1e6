"""Regenerate constraints.txt: every third-party dependency of every pyproject.toml, pinned.

pip-compile cannot resolve our own packages (lobu-shared is not on a registry), so
this collects the requirements of all pyproject files except the lobu-* ones and lets
pip-compile pin them together. Run it with `make constraints`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECTS = [
    REPO / "pyproject.toml",
    REPO / "shared" / "pyproject.toml",
    *sorted((REPO / "services").glob("*/pyproject.toml")),
]


def third_party_requirements() -> list[str]:
    """Requirements (with extras) named by the pyproject files, ours left out."""
    found: set[str] = set()
    for path in PYPROJECTS:
        project = tomllib.loads(path.read_text())["project"]
        requirements = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            requirements += extra
        found.update(req for req in requirements if not req.startswith("lobu-"))
    return sorted(found, key=str.lower)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        requirements_in = Path(folder) / "requirements.in"
        requirements_in.write_text("\n".join(third_party_requirements()) + "\n")
        return subprocess.call(  # noqa: S603  # fixed arguments, no user input
            [
                sys.executable, "-m", "piptools", "compile", "--quiet", "--strip-extras",
                "--no-emit-index-url", "--no-emit-trusted-host", "--no-emit-find-links",
                "--no-annotate", "--allow-unsafe",
                "--output-file", str(REPO / "constraints.txt"), str(requirements_in),
            ],
            env={**os.environ, "CUSTOM_COMPILE_COMMAND": "make constraints"},
        )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
