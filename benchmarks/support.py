"""Shared pieces of the benchmarks: a telroute server process, wrk runs, a callback counter."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown cpu",
    )
    return f"{os.cpu_count()} cores, {cpu}"


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        command = [sys.executable, "-m", "telroute", *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=True).stdout

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start_server(extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> RunningServer:
    data_dir = Path(tempfile.mkdtemp(prefix="telroute-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELROUTE_")}
    env.update({"TELROUTE_DATA_DIR": str(data_dir), **(extra_env or {})})
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "telroute", "serve", "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return RunningServer(process, url, data_dir, env)
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")
    except BaseException:  # not left running when it did not start in time, or the wait was interrupted
        process.kill()
        process.wait()
        raise


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    *,
    seconds: int = 10,
    connections: int = 32,
    script: str | None = None,
    headers: dict[str, str] | None = None,
) -> WrkResult:
    command = [ensure_wrk(), "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        path = Path(tempfile.mkstemp(suffix=".lua")[1])
        path.write_text(script)
        command += ["-s", str(path)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(rate, p50, p99, total, int(non_2xx_match.group(1)) if non_2xx_match else 0)


def post_script(body: Mapping[str, object], authorization: str) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "{authorization}"\n'
    )


_KEPT: list[httpx.Client] = []


def local_get(url: str, timeout: float = 10) -> httpx.Response:
    """GET from a process of this benchmark through one kept client. `httpx.get` builds a client, TLS
    context included, on every call: about 18 ms of CPU here, which a poll every 20 ms turned into half a
    core taken from the server being measured."""
    if not _KEPT:
        _KEPT.append(httpx.Client())
    return _KEPT[0].get(url, timeout=timeout)
