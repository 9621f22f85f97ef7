"""A real `telroute` process on a free port, driven over HTTP in end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support import loopback
from tests.support.databases import database_url_for

TELROUTE = [sys.executable, "-m", "telroute"]


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (`serve`'s worker process)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELROUTE_")}
    env.update(
        TELROUTE_DATA_DIR=str(data_dir),
        TELROUTE_DATABASE_URL=database_url_for(data_dir),
        TELROUTE_INVENTORY_PER_BLOCK="2",
        # `serve`'s worker in its own process, unless a test asks for the worker process (the default on two
        # cores or more: tests/e2e/test_worker_process.py and the tests that say so): a second process's
        # start-up for each of the suite's servers cost about a minute of the suite on two cores.
        TELROUTE_WORKER_PROCESS="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TELROUTE, *args], env=env or base_env(data_dir), capture_output=True, text=True, timeout=120, check=check
    )


def create_account(data_dir: Path, name: str) -> tuple[str, str]:
    result = run_cli(data_dir, "accounts", "create", "--name", name, "--json")
    keys = json.loads(result.stdout)
    return keys["access_key"], keys["secret_key"]


def demo_keys(data_dir: Path) -> tuple[str, str]:
    """The keys of the demo account a sandbox server made in `data_dir`."""
    demo = json.loads((data_dir / "demo-account.json").read_text())
    return demo["access_key"], demo["secret_key"]


@dataclass
class Server:
    data_dir: Path
    args: tuple[str, ...] = ()
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None
    log_dir: Path | None = None  # where the output goes; the data dir unless set (a disk the test fills)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 90.0) -> Server:
        self.log_path = (self.log_dir or self.data_dir) / f"server-{self.port}-{time.monotonic_ns()}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [*TELROUTE, "serve", "--port", str(self.port), *self.args],
                env=base_env(self.data_dir, **self.env_extra),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                if loopback.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not ready in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def demo_keys(self) -> tuple[str, str]:
        return demo_keys(self.data_dir)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 15.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def client(self, keys: tuple[str, str] | None = None) -> httpx.Client:
        return loopback.client(base_url=self.url, auth=keys, timeout=30.0)
