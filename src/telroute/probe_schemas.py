"""The wire shapes of the probes `/healthz` and `/readyz` as Structs, rendered with msgspec and the source of
their OpenAPI components."""

from __future__ import annotations

from typing import Literal

from telroute.kit.wire import Closed


class Health(Closed):
    status: Literal["ok"]


class Ready(Closed):
    status: Literal["ready"]


HEALTHY = Health(status="ok")
READY = Ready(status="ready")
