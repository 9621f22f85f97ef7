"""A `telroute worker` subprocess on a deployment, for end-to-end tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.isolated import Deployment, eventually

FAST = {"TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.1"}


@dataclass
class WorkerProcess:
    """A `telroute worker` subprocess on a deployment."""

    site: Deployment
    args: tuple[str, ...] = ()
    env_extra: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None

    def start(self) -> WorkerProcess:
        self.log_path = self.site.data_dir / f"worker-{time.monotonic_ns()}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "telroute", "worker", *self.args],
                env=self.site.env(**FAST, **self.env_extra),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        eventually(self._running, timeout=60, what="the worker announcing itself")
        return self

    def _running(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited early:\n{self.output()}")
        return "telroute worker running" in self.output()

    def output(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def terminate(self, timeout: float = 15.0) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the exit took."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
