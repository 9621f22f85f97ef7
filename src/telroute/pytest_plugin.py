"""pytest fixtures for testing an app that sends SMS through telroute (installed as the `telroute` pytest11
plugin; inert unless a test uses its fixtures).

- `telroute_server` (session): a `telroute serve` on a free 127.0.0.1 port over a temporary data dir
  (SQLite), stopped at the end; or an external server: `--telroute-url URL --telroute-admin-token TOKEN`.
- `telroute_account` (per test): a fresh account with one number bought, deleted afterwards:
  `.base_url`, `.access_key`, `.secret_key`, `.number`, `.wait_for_message(...)`, `.otp(...)`,
  `.inject_inbound(...)`, `.messages(...)`, `.callbacks(...)`, `.wait_for_callback(...)`,
  `.advance(seconds)` (the deployment's virtual clock), `.reset()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from telroute.sandbox_client import SandboxAccount, SandboxAdmin, SandboxError
from telroute.sandbox_process import SandboxProcess

_PER_BLOCK_ENV = "TELROUTE_INVENTORY_PER_BLOCK"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("telroute", "telroute sandbox (fixtures telroute_server, telroute_account)")
    group.addoption("--telroute-url", default=None, help="Use this running sandbox server instead of starting one.")
    group.addoption("--telroute-admin-token", default=None, help="The admin token of the --telroute-url server.")
    group.addoption(
        "--telroute-inventory-per-block",
        default=None,
        help=f"Numbers per exchange in a started server's inventory (default: ${_PER_BLOCK_ENV}, else 2: fast).",
    )


def _started(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxAdmin]:
    per_block = config.getoption("--telroute-inventory-per-block") or os.environ.get(_PER_BLOCK_ENV) or "2"
    process = SandboxProcess(tmp_path_factory.mktemp("telroute"), inventory_per_block=str(per_block))
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.fixture(scope="session")
def telroute_server(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxAdmin]:
    """The sandbox server: `.base_url`, `.admin_token`, `.create_account(...)`, `.inject_inbound(...)`."""
    url = pytestconfig.getoption("--telroute-url")
    if url is None:
        yield from _started(pytestconfig, tmp_path_factory)
        return
    token = pytestconfig.getoption("--telroute-admin-token") or os.environ.get("TELROUTE_ADMIN_TOKEN")
    if not token:
        raise pytest.UsageError("--telroute-url needs --telroute-admin-token (or $TELROUTE_ADMIN_TOKEN)")
    yield SandboxAdmin(str(url).rstrip("/"), str(token))


@pytest.fixture
def telroute_account(telroute_server: SandboxAdmin) -> Iterator[SandboxAccount]:
    """A fresh account of its own for this test, with one number; deleted with all its data afterwards."""
    account = telroute_server.create_account(numbers=1, name="pytest")
    yield account
    try:
        telroute_server.delete_account(account.access_key)
    except SandboxError as exc:
        if exc.status != 404:  # the test deleted it itself
            raise
