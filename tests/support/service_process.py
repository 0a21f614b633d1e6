"""A lobu service run as `make run` runs it: uvicorn in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


class ServiceProcess:
    """One service on a port, with its environment; logs go to a file."""

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

    def start(self, *, timeout: float = 60.0) -> None:
        """Start uvicorn and wait until /healthz answers."""
        log = self.log_file.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", self.app, "--factory",
             "--host", "127.0.0.1", "--port", str(self.port)],
            env={**os.environ, **self.env}, stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.app} exited; see {self.log_file}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.app} did not answer on {self.url} within {timeout} s")

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
