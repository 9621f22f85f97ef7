"""Settings from TELROUTE_* variables: here, a worker's optional health and metrics listener."""

from __future__ import annotations

from telroute.config import settings_from_env


def test_a_worker_listens_nowhere_unless_given_a_port() -> None:
    settings = settings_from_env({})
    assert settings.worker_port is None
    assert settings.worker_host == "127.0.0.1"


def test_the_worker_port_and_host_come_from_the_environment() -> None:
    settings = settings_from_env({"TELROUTE_WORKER_PORT": "9464", "TELROUTE_WORKER_HOST": "0.0.0.0"})
    assert (settings.worker_host, settings.worker_port) == ("0.0.0.0", 9464)


def test_options_override_the_environment_and_leave_the_api_address_alone() -> None:
    settings = settings_from_env({"TELROUTE_WORKER_PORT": "9464"}).with_overrides(worker_port=9500, worker_host=None)
    assert (settings.worker_host, settings.worker_port) == ("127.0.0.1", 9500)
    assert settings.link_base == "http://127.0.0.1:8080"
