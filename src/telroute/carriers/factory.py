"""Carrier links from their stored configuration (`telroute carriers add ...`)."""

from __future__ import annotations

from typing import Any

from telroute.messages.carrier_port import Carrier


def build_carrier(name: str, kind: str, config: dict[str, Any]) -> Carrier:
    if kind == "smpp":
        from telroute.carriers.smpp.carrier import SmppCarrier
        from telroute.carriers.smpp.config import SmppLinkConfig

        return SmppCarrier(SmppLinkConfig.from_dict({**config, "name": name}))
    raise ValueError(f"unknown carrier kind {kind!r}")
