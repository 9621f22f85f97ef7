"""Where a message goes: on-net to the account that owns the number, else to a carrier.

The on-net decision is messaging's (it needs the numbers this server owns); which carrier takes
an off-net message is asked of the `Routes` the caller hands in (the carrier registry's table),
so that this module needs nothing of `carriers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from telroute.kit.db import Connection, Row
from telroute.messages.carrier_port import Routes
from telroute.numbers import repository as numbers_repository


@dataclass(frozen=True, slots=True)
class OnNet:
    owner: Row  # the receiving number's owner and callback settings


@dataclass(frozen=True, slots=True)
class OffNet:
    carrier: str


async def route(connection: Connection, to_number: str, routes: Routes) -> OnNet | OffNet:
    owner = await numbers_repository.owner_of(connection, to_number)
    if owner is not None:
        return OnNet(owner)
    return OffNet(routes.carrier_for(to_number))
