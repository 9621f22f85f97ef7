"""Settings from TELROUTE_* variables: a worker's health listener, the HTTP edge, automatic replies, retention."""

from __future__ import annotations

import pytest

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


def test_callback_delivery_settings_come_from_the_environment() -> None:
    settings = settings_from_env(
        {"TELROUTE_WEBHOOK_CONNECTIONS": "4", "TELROUTE_WEBHOOK_TIMEOUT": "2.5", "TELROUTE_WORKER_BATCH": "12"}
    )
    assert (settings.webhook_connections_per_receiver, settings.webhook_timeout, settings.worker_batch) == (4, 2.5, 12)
    assert settings_from_env({}).webhook_connections_per_receiver == 16


def test_a_callback_waits_for_a_connection_no_longer_than_its_lease_allows() -> None:
    assert settings_from_env({}).webhook_slot_wait == 10.0  # the timeout; 10 + 10 s stays within the 30 s lease
    tight = settings_from_env({"TELROUTE_WEBHOOK_TIMEOUT": "20"})
    assert tight.webhook_slot_wait == 5.0  # (30 - 20) / 2
    assert settings_from_env({"TELROUTE_WEBHOOK_TIMEOUT": "40"}).webhook_slot_wait == 0.0


def test_the_http_edge_limits_default_to_production_values() -> None:
    settings = settings_from_env({})
    assert settings.http_max_head_bytes == 16_384
    assert (settings.http_head_timeout, settings.http_body_idle_timeout, settings.http_body_timeout) == (10, 10, 60)
    assert (settings.http_keep_alive_timeout, settings.http_max_connections) == (5, 1_000)


def test_the_http_edge_limits_come_from_the_environment() -> None:
    settings = settings_from_env(
        {
            "TELROUTE_HTTP_MAX_HEAD_BYTES": "8192",
            "TELROUTE_HTTP_HEAD_TIMEOUT": "2.5",
            "TELROUTE_HTTP_BODY_IDLE_TIMEOUT": "3",
            "TELROUTE_HTTP_BODY_TIMEOUT": "30",
            "TELROUTE_HTTP_KEEP_ALIVE_TIMEOUT": "75",
            "TELROUTE_HTTP_MAX_CONNECTIONS": "50",
        }
    )
    assert settings.http_max_head_bytes == 8192
    assert (settings.http_head_timeout, settings.http_body_idle_timeout, settings.http_body_timeout) == (2.5, 3, 30)
    assert (settings.http_keep_alive_timeout, settings.http_max_connections) == (75, 50)


@pytest.mark.parametrize(
    ("name", "value"),
    [("TELROUTE_HTTP_HEAD_TIMEOUT", "0"), ("TELROUTE_HTTP_BODY_TIMEOUT", "-1"), ("TELROUTE_HTTP_MAX_CONNECTIONS", "0")],
)
def test_an_edge_limit_that_would_refuse_everything_is_an_error(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        settings_from_env({name: value})


def test_automatic_replies_follow_the_profile_unless_set() -> None:
    assert settings_from_env({}).with_overrides(profile="sandbox").auto_replies_on
    assert not settings_from_env({}).with_overrides(profile="production").auto_replies_on
    forced = settings_from_env({"TELROUTE_AUTO_REPLIES": "on"}).with_overrides(profile="production")
    assert forced.auto_replies_on
    assert not settings_from_env({"TELROUTE_AUTO_REPLIES": "off"}).auto_replies_on


def test_the_automatic_reply_texts_come_from_the_environment() -> None:
    settings = settings_from_env({"TELROUTE_HELP_REPLY": "{account}: call us", "TELROUTE_START_REPLY": "Welcome"})
    assert (settings.help_reply, settings.start_reply) == ("{account}: call us", "Welcome")
    assert "{account}" in settings.stop_reply


def test_an_empty_reply_text_is_an_error() -> None:
    with pytest.raises(ValueError, match="TELROUTE_STOP_REPLY"):
        settings_from_env({"TELROUTE_STOP_REPLY": "  "})


def test_the_retention_batches_come_from_the_environment() -> None:
    settings = settings_from_env({"TELROUTE_RETENTION_BATCH": "200", "TELROUTE_RETENTION_PAUSE": "0"})
    assert (settings.retention_batch, settings.retention_pause) == (200, 0)
    assert (settings_from_env({}).retention_batch, settings_from_env({}).retention_pause) == (500, 0.05)
    with pytest.raises(ValueError, match="TELROUTE_RETENTION_BATCH"):
        settings_from_env({"TELROUTE_RETENTION_BATCH": "0"})
