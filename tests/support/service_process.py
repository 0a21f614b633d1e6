"""A lobu service run as `make run` runs it: uvicorn in its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


class ServiceProcess:
    """One service on a port, with its environment; its output goes to `log_file`."""

    def __init__(self, *, app: str, port: int, env: dict[str, str], log_file: Path) -> None:
        self.app = app
        self.port = port
        self.env = env
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str = "/readyz", timeout: float = 90.0) -> None:
        """Start uvicorn and wait until `ready_path` answers 200.

        `/readyz` says 200 once the database and Kafka are reachable; pass `/healthz`
        to start a service while Kafka is away on purpose.
        """
        log = self.log_file.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", self.app, "--factory",
             "--host", "127.0.0.1", "--port", str(self.port)],
            env={**os.environ, **self.env}, stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.app} exited; see {self.log_file}")
            try:
                response = httpx.get(f"{self.url}{ready_path}", timeout=2)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.2)  # the poll interval of this condition wait
        raise RuntimeError(
            f"{self.app} was not ready on {self.url}{ready_path} within {timeout} s "
            f"(last: {last}); see {self.log_file}"
        )

    @property
    def pid(self) -> int | None:
        """The process id while it runs (uvicorn serves in this process: no workers)."""
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        """SIGKILL the process, as a crash or the OOM killer would: no clean-up at all."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait()
        self._process = None

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines the process has written so far (uvicorn's plain lines left out)."""
        records = []
        for line in self.log_file.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a line being written right now
        return records

    def stop(self) -> None:
        """Stop the service as Ctrl-C would."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
