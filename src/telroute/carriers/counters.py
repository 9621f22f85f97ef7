"""What a carrier link counts about itself, for its `status()` (`telroute carriers status`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CarrierCounters:
    sent: int = 0
    receipts: int = 0
    errors: int = 0
    inbound: int = 0
    in_flight: int = 0
    last_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
