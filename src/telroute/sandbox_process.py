"""A `telroute serve` child process in the sandbox profile over a temporary data dir (SQLite), for the
pytest plugin: a free 127.0.0.1 port, a fresh admin token, ready when `/readyz` answers 200."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from telroute.sandbox_client import SandboxAdmin

START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=1.0) as response:
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


class SandboxProcess:
    def __init__(self, data_dir: Path, *, inventory_per_block: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_urlsafe(24)
        self.log_path = data_dir / "server.log"
        self._per_block = inventory_per_block
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def _env(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("TELROUTE_")}
        env.update(
            TELROUTE_DATA_DIR=str(self.data_dir),
            TELROUTE_DATABASE_URL=f"sqlite:///{(self.data_dir / 'telroute.db').resolve()}",
            TELROUTE_ADMIN_TOKEN=self.admin_token,
            PYTHONUNBUFFERED="1",
        )
        if self._per_block:
            env["TELROUTE_INVENTORY_PER_BLOCK"] = self._per_block
        return env

    def start(self) -> SandboxAdmin:
        self._log = self.log_path.open("wb")
        # One process: a test session's sandbox carries little load, and starts sooner without a worker process.
        command = [sys.executable, "-m", "telroute", "serve", "--profile", "sandbox", "--port", str(self.port)]
        command.append("--worker-in-process")
        self._process = subprocess.Popen(command, env=self._env(), stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not _ready(self.url):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"telroute serve did not become ready:\n{self.output()}")
            time.sleep(0.1)
        return SandboxAdmin(self.url, self.admin_token)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
