"""Where a message goes: on-net to the account that owns the number, else to a carrier.

The on-net decision is messaging's (it needs the numbers this server owns); which carrier takes
an off-net message is asked of the `Routes` the caller hands in (the carrier registry's table),
so that this module needs nothing of `carriers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from telroute.kit.db import Row
from telroute.messages.carrier_port import Routes


@dataclass(frozen=True, slots=True)
class OnNet:
    owner: Row  # the receiving number's owner and callback settings


@dataclass(frozen=True, slots=True)
class OffNet:
    carrier: str


def route(owner: Row | None, to_number: str, routes: Routes) -> OnNet | OffNet:
    """`owner`: the owner of `to_number` on this server (`numbers.repository.owner_of`), None when off-net."""
    if owner is not None:
        return OnNet(owner)
    return OffNet(routes.carrier_for(to_number))
