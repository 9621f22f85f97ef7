"""The one typed Settings object. Nothing else in telroute reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from telroute.kit.addresses import AddressPolicy
from telroute.kit.token_digest import TokenDigest

Profile = Literal["sandbox", "production"]


@dataclass(frozen=True, slots=True)
class Prices:
    """Integer nanodollars (4_000_000 = $0.004)."""

    outbound_sms_per_segment: int = 4_000_000
    inbound_sms: int = 4_000_000
    outbound_mms: int = 19_500_000
    inbound_mms: int = 9_500_000


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path(".telroute")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    # The deployment's profile and address policy are stored in its database (telroute.deployment);
    # `requested_profile` and `allow_private_targets` are what this process was asked for, which may
    # only be stricter. After start-up `profile`, `allow_private_targets` and `allowed_networks` hold
    # what is in force.
    profile: Profile = "sandbox"
    requested_profile: Profile | None = None
    allow_private_targets: bool | None = None
    allowed_networks: tuple[str, ...] = ()
    public_base_url: str | None = None
    worker_host: str = "127.0.0.1"
    worker_port: int | None = None  # a worker-only process listens (health, metrics) only when set
    worker_process: bool | None = None  # `serve`'s worker in a child process; None: where there are 2+ cores
    admin_token: TokenDigest | None = None  # only the digest: see kit/token_digest.py
    log_format: Literal["console", "json"] = "console"
    log_level: str = "info"
    max_body_bytes: int = 1_048_576
    # The HTTP edge (both the API and a worker's health port): see telroute/edge/protocol.py.
    http_max_head_bytes: int = 16_384  # request line and headers; more is answered 431
    http_head_timeout: float = 10.0  # from connecting (or a request's first byte) to the end of its head
    http_body_idle_timeout: float = 10.0  # longest wait for the next bytes of a request body
    http_body_timeout: float = 60.0  # longest time for a whole request body
    http_keep_alive_timeout: float = 5.0  # an idle connection between requests is closed after this
    http_max_connections: int = 1_000  # open connections per listening port; more are answered 503
    simulator_receipt_delay: float = 1.0
    simulator_failure_rate: float = 0.0
    simulator_seed: int = 0
    webhook_timeout: float = 10.0
    webhook_backoff: tuple[float, ...] = (10.0, 60.0, 180.0, 540.0, 1020.0)
    webhook_connections_per_receiver: int = 16
    media_timeout: float = 10.0
    media_max_bytes: int = 767_840
    message_validity_seconds: float = 86_400.0
    job_lease_seconds: float = 30.0
    carrier_lease_seconds: float = 15.0
    worker_batch: int = 200
    inventory_per_block: int | None = None
    cnam_approval_delay: float = 30.0  # sandbox: a pending CNAM preset counts as approved this long after creation
    retention_days: float | None = None  # None: the profile's (sandbox 7, production off); 0: off
    retention_interval: float = 60.0  # seconds between the worker's pruning rounds
    retention_batch: int = 500  # messages (and callback tries) deleted per transaction
    retention_pause: float = 0.05  # seconds between two pruning transactions
    auto_replies: bool | None = None  # carriers' HELP/STOP/START replies; None: the profile's (sandbox on)
    help_reply: str = "{account}: reply STOP to get no more messages from this number, START to get them again."
    stop_reply: str = "{account}: you are unsubscribed and will get no more messages. Reply START to resubscribe."
    start_reply: str = "{account}: you are subscribed again. Reply STOP to unsubscribe."
    prices: Prices = field(default_factory=Prices)

    @property
    def private_targets_allowed(self) -> bool:
        if self.allow_private_targets is not None:
            return self.allow_private_targets
        return self.profile == "sandbox"

    @property
    def retention_us(self) -> int | None:
        """How old a message may get before the worker deletes it; None: kept for ever."""
        days = self.retention_days if self.retention_days is not None else (7.0 if self.profile == "sandbox" else 0.0)
        return round(days * 86_400_000_000) if days > 0 else None

    @property
    def auto_replies_on(self) -> bool:
        return self.auto_replies if self.auto_replies is not None else self.profile == "sandbox"

    @property
    def address_policy(self) -> AddressPolicy:
        return AddressPolicy.of(self.private_targets_allowed, self.allowed_networks)

    @property
    def webhook_slot_wait(self) -> float:
        """How long a callback waits for one of its receiver's connections before it is given back to
        the queue untried: never so long that the wait and the request together outlast its job lease."""
        return max(0.0, min(self.webhook_timeout, (self.job_lease_seconds - self.webhook_timeout) / 2))

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'telroute.db').resolve()}"

    @property
    def link_base(self) -> str:
        """Base of links in callback payloads, which are built away from any request."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def with_overrides(self, **changes: object) -> Settings:
        present = {key: value for key, value in changes.items() if value is not None}
        return replace(self, **present)  # type: ignore[arg-type]


def _token_digest(value: str | None) -> TokenDigest | None:
    return TokenDigest.of(value) if value else None


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _profile(value: str | None) -> Profile | None:
    if not value:
        return None
    if value not in ("sandbox", "production"):
        raise ValueError(f"TELROUTE_PROFILE must be sandbox or production, not {value!r}")
    return "sandbox" if value == "sandbox" else "production"


def _backoff(value: str | None) -> tuple[float, ...] | None:
    if not value:
        return None
    return tuple(float(part) for part in value.split(","))


def _retention(value: str | None) -> float | None:
    if not value:
        return None
    days = 0.0 if value.strip().lower() == "off" else float(value)
    if not days >= 0:
        raise ValueError(f"TELROUTE_RETENTION_DAYS must be a number of days >= 0 or off, not {value!r}")
    return days


def _text(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise ValueError(f"{name} must not be empty (TELROUTE_AUTO_REPLIES=off turns the replies off)")
    return value


def _number(value: str | None) -> float | None:
    return float(value) if value else None


def _integer(value: str | None) -> int | None:
    return int(value) if value else None


def _positive_number(name: str, value: str | None) -> float | None:
    number = _number(value)
    if number is not None and not number > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return number


def _non_negative_number(name: str, value: str | None) -> float | None:
    number = _number(value)
    if number is not None and not number >= 0:
        raise ValueError(f"{name} must be a number of seconds, 0 or more, not {value!r}")
    return number


def _positive_integer(name: str, value: str | None) -> int | None:
    number = _integer(value)
    if number is not None and number < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return number


def _http_edge(source: dict[str, str]) -> dict[str, float | int | None]:
    def seconds(name: str) -> float | None:
        return _positive_number(name, source.get(name))

    def count(name: str) -> int | None:
        return _positive_integer(name, source.get(name))

    return {
        "http_max_head_bytes": count("TELROUTE_HTTP_MAX_HEAD_BYTES"),
        "http_head_timeout": seconds("TELROUTE_HTTP_HEAD_TIMEOUT"),
        "http_body_idle_timeout": seconds("TELROUTE_HTTP_BODY_IDLE_TIMEOUT"),
        "http_body_timeout": seconds("TELROUTE_HTTP_BODY_TIMEOUT"),
        "http_keep_alive_timeout": seconds("TELROUTE_HTTP_KEEP_ALIVE_TIMEOUT"),
        "http_max_connections": count("TELROUTE_HTTP_MAX_CONNECTIONS"),
    }


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    """Settings from TELROUTE_* environment variables; CLI options are applied on top."""
    source = dict(os.environ) if env is None else env
    base = Settings()
    delay = source.get("TELROUTE_SIMULATOR_RECEIPT_DELAY")
    return base.with_overrides(
        data_dir=Path(source["TELROUTE_DATA_DIR"]) if source.get("TELROUTE_DATA_DIR") else None,
        database_url=source.get("TELROUTE_DATABASE_URL") or None,
        requested_profile=_profile(source.get("TELROUTE_PROFILE")),
        allow_private_targets=_flag(source.get("TELROUTE_ALLOW_PRIVATE_TARGETS")),
        public_base_url=source.get("TELROUTE_PUBLIC_BASE_URL") or None,
        admin_token=_token_digest(source.get("TELROUTE_ADMIN_TOKEN")),
        worker_host=source.get("TELROUTE_WORKER_HOST") or None,
        worker_port=_integer(source.get("TELROUTE_WORKER_PORT")),
        worker_process=_flag(source.get("TELROUTE_WORKER_PROCESS")),
        log_format=source.get("TELROUTE_LOG_FORMAT") or None,
        log_level=source.get("TELROUTE_LOG_LEVEL") or None,
        simulator_receipt_delay=float(delay) if delay else None,
        webhook_backoff=_backoff(source.get("TELROUTE_WEBHOOK_BACKOFF")),
        webhook_timeout=_number(source.get("TELROUTE_WEBHOOK_TIMEOUT")),
        webhook_connections_per_receiver=_integer(source.get("TELROUTE_WEBHOOK_CONNECTIONS")),
        worker_batch=_integer(source.get("TELROUTE_WORKER_BATCH")),
        inventory_per_block=_integer(source.get("TELROUTE_INVENTORY_PER_BLOCK")),
        job_lease_seconds=_number(source.get("TELROUTE_JOB_LEASE_SECONDS")),
        carrier_lease_seconds=_number(source.get("TELROUTE_CARRIER_LEASE_SECONDS")),
        cnam_approval_delay=_non_negative_number(
            "TELROUTE_CNAM_APPROVAL_DELAY", source.get("TELROUTE_CNAM_APPROVAL_DELAY")
        ),
        retention_days=_retention(source.get("TELROUTE_RETENTION_DAYS")),
        retention_interval=_number(source.get("TELROUTE_RETENTION_INTERVAL")),
        retention_batch=_positive_integer("TELROUTE_RETENTION_BATCH", source.get("TELROUTE_RETENTION_BATCH")),
        retention_pause=_non_negative_number("TELROUTE_RETENTION_PAUSE", source.get("TELROUTE_RETENTION_PAUSE")),
        auto_replies=_flag(source.get("TELROUTE_AUTO_REPLIES")),
        help_reply=_text("TELROUTE_HELP_REPLY", source.get("TELROUTE_HELP_REPLY")),
        stop_reply=_text("TELROUTE_STOP_REPLY", source.get("TELROUTE_STOP_REPLY")),
        start_reply=_text("TELROUTE_START_REPLY", source.get("TELROUTE_START_REPLY")),
        **_http_edge(source),
    )
