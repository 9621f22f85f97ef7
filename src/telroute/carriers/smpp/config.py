"""The settings of one SMPP link, storable as JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from telroute.carriers.smpp.coding import LINK_CODINGS
from telroute.carriers.smpp.concat import LONG_MESSAGES

BIND_MODES = ("transceiver", "transmitter", "receiver")


@dataclass(frozen=True, slots=True)
class SmppLinkConfig:
    name: str
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    window: int = 10
    max_rate: float = 0  # submit_sm per second; 0 = unlimited
    bind_mode: str = "transceiver"
    long_messages: str = "udh"  # or "payload": one submit_sm carrying a message_payload TLV
    data_coding: int = 0  # 0 = GSM 03.38 when the text fits, else UCS-2; 3 = Latin-1; 8 = UCS-2
    response_timeout: float = 10.0
    enquire_link_interval: float = 30.0
    reconnect_max_delay: float = 30.0
    source_ton: int = 1
    source_npi: int = 1
    dest_ton: int = 1
    dest_npi: int = 1
    registered_delivery: int = 1  # ask for a final delivery receipt
    throttle_retries: int = 20  # resubmits of one part after ESME_RTHROTTLED / ESME_RMSGQFUL

    def __post_init__(self) -> None:
        problems = [problem for problem in _problems(self) if problem]
        if problems:
            raise ValueError(f"SMPP link {self.name!r}: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SmppLinkConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown SMPP link settings: {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _problems(config: SmppLinkConfig) -> list[str | None]:
    return [
        None if 0 < config.port < 65536 else f"port {config.port} is out of range",
        None if config.window >= 1 else "window must be at least 1",
        None if config.max_rate >= 0 else "max_rate cannot be negative",
        None if config.bind_mode in BIND_MODES else f"bind_mode must be one of {BIND_MODES}",
        None if config.long_messages in LONG_MESSAGES else f"long_messages must be one of {LONG_MESSAGES}",
        None if config.data_coding in LINK_CODINGS else f"data_coding must be one of {LINK_CODINGS}",
        None if config.response_timeout > 0 else "response_timeout must be positive",
        None if config.enquire_link_interval > 0 else "enquire_link_interval must be positive",
        None if config.reconnect_max_delay > 0 else "reconnect_max_delay must be positive",
        None if len(config.system_id.encode("latin-1", "replace")) <= 15 else "system_id is over 15 octets",
        None if len(config.password.encode("latin-1", "replace")) <= 8 else "password is over 8 octets",
    ]
