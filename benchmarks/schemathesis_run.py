"""Schemathesis against a live telroute, driven by its `/openapi.json`: prints the cases tried and the failures.

Starts `telroute serve` on 127.0.0.1 (sandbox profile, a fresh temporary data dir, SQLite unless
TELROUTE_DATABASE_URL is set), creates a fresh account, buys it two numbers, and runs the schemathesis CLI
with every phase (examples, coverage, fuzzing, stateful) and the checks of `CHECKS`: no 5xx, and every
status code, Content-Type, header and body as the document says; what is deleted is gone.
`tests/e2e/test_openapi_schemathesis.py` runs the same `run()` with few examples in every `scripts/test`;
this script is the bigger run.

Usage: .venv/bin/python benchmarks/schemathesis_run.py [--max-examples 100] [--phases all] [--seed N] [--workers 1]
Exit status: 0 when no case failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "use_after_free",
)
# Not `ensure_resource_availability`: it reads any 404 after a create as "the created resource is gone", but
# `PATCH /v2/numbers/{id}/relationships/primary_route` answers 404 for an unknown route named in its body.
ALL_PHASES = "examples,coverage,fuzzing,stateful"


@dataclass
class Outcome:
    cases: int
    failures: list[dict[str, Any]]
    errors: list[Any]
    seconds: float
    seed: str
    output: str
    report: dict[str, Any] = field(repr=False)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors and self.report.get("exit_code") == 0

    def summary(self) -> str:
        lines = [f"{self.cases} cases in {self.seconds:.1f} s (seed {self.seed}): {len(self.failures)} failure kinds"]
        for failure in self.failures:
            lines.append(f"  {failure.get('code')} {failure.get('title')}: {', '.join(failure.get('operations', []))}")
        lines.extend(f"  error: {error}" for error in self.errors)
        return "\n".join(lines)


def _config(keys: tuple[str, str], admin_token: str | None) -> str:
    lines = ["[auth.openapi.basic]", f"username = {json.dumps(keys[0])}", f"password = {json.dumps(keys[1])}"]
    if admin_token:
        lines += ["[auth.openapi.adminToken]", f"bearer = {json.dumps(admin_token)}"]
    return "\n".join(lines) + "\n"


def run(
    url: str,
    keys: tuple[str, str],
    admin_token: str | None,
    *,
    max_examples: int,
    phases: str = ALL_PHASES,
    seed: int | None = None,
    workers: int = 1,
    checks: tuple[str, ...] = CHECKS,
    timeout: float = 1800.0,
) -> Outcome:
    """Run the schemathesis CLI against the server at `url` (127.0.0.1) as the account `keys`."""
    with tempfile.TemporaryDirectory(prefix="telroute-schemathesis-") as scratch:
        directory = Path(scratch)
        config = directory / "schemathesis.toml"
        config.write_text(_config(keys, admin_token))
        report = directory / "report.json"
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--no-color",
            "--config-file",
            str(config),
            "run",
            f"{url}/openapi.json",
            "--checks",
            ",".join(checks),
            "--phases",
            phases,
            "--max-examples",
            str(max_examples),
            "--workers",
            str(workers),
            "--request-timeout",
            "30",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--warnings",
            "off",
            # The long polls wait up to their `timeout` (60 s at most; a generated one made up nine tenths of
            # the run's time): tests/e2e/test_sandbox_api.py and test_sandbox_callbacks.py cover them.
            "--exclude-operation-id",
            "waitForSandboxMessage",
            "--exclude-operation-id",
            "waitForSandboxCallback",
            # A fault rule it creates may answer every later call 500 or 503 on purpose, which
            # `not_a_server_error` counts against the server; tests/e2e/test_sandbox_faults.py covers it.
            "--exclude-operation-id",
            "createSandboxFault",
        ]
        if seed is not None:
            command += ["--seed", str(seed)]
        started = time.monotonic()
        finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=directory)
        seconds = time.monotonic() - started
        if not report.exists():
            raise RuntimeError(
                f"schemathesis wrote no report (exit {finished.returncode}):\n{finished.stdout}\n{finished.stderr}"
            )
        data: dict[str, Any] = json.loads(report.read_text())
    return Outcome(
        cases=int(data["test_cases"]["generated"]),
        failures=list(data.get("failures") or []),
        errors=list(data.get("errors") or []),
        seconds=seconds,
        seed=str(data.get("seed")),
        output=finished.stdout + finished.stderr,
        report=data,
    )


def _prepare_account(url: str, keys: tuple[str, str]) -> None:
    """Two numbers, so that the account's lists and number operations have something to find."""
    with httpx.Client(base_url=url, auth=keys, timeout=30) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": "1312", "limit": 2}).json()["data"]
        for item in found:
            client.post(f"/v2/numbers/{item['id']}").raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--phases", default=ALL_PHASES)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find `benchmarks`
    from benchmarks.support import start_server

    extra = {"TELROUTE_INVENTORY_PER_BLOCK": "4"}
    if os.environ.get("TELROUTE_DATABASE_URL"):
        extra["TELROUTE_DATABASE_URL"] = os.environ["TELROUTE_DATABASE_URL"]
    server = start_server(extra)
    try:
        created = json.loads(server.cli("accounts", "create", "--name", "schemathesis", "--json"))
        keys = (str(created["access_key"]), str(created["secret_key"]))
        _prepare_account(server.url, keys)
        token = (server.data_dir / "admin-token").read_text().strip()
        outcome = run(
            server.url,
            keys,
            token,
            max_examples=arguments.max_examples,
            phases=arguments.phases,
            seed=arguments.seed,
            workers=arguments.workers,
        )
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
    print(f"schemathesis {outcome.report.get('schemathesis_version')}; checks: {', '.join(CHECKS)}")
    print(f"phases: {arguments.phases}; max examples per operation: {arguments.max_examples}")
    print(outcome.summary())
    if not outcome.ok:
        print(outcome.output[-20000:])
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
