"""Choosing where a message goes: on-net to another account's number, else a carrier by prefix."""

from __future__ import annotations

from dataclasses import dataclass

from telroute.kit.db import Connection, Row
from telroute.numbers import repository as numbers_repository


@dataclass(frozen=True, slots=True)
class OnNet:
    owner: Row  # the receiving number's owner and callback settings


@dataclass(frozen=True, slots=True)
class OffNet:
    carrier: str


@dataclass(frozen=True, slots=True)
class RoutingTable:
    default: str
    prefixes: tuple[tuple[str, str], ...] = ()  # (prefix, carrier), longest prefix first

    @classmethod
    def build(cls, rules: dict[str, str], fallback: str) -> RoutingTable:
        """The table of the stored rules: prefix -> carrier, where the rule of prefix '' is the default
        route; `fallback` (the simulator) is the default when there is no such rule."""
        default = rules.get("", fallback)
        prefixed = [(prefix, carrier) for prefix, carrier in rules.items() if prefix]
        ordered = tuple(sorted(prefixed, key=lambda rule: (-len(rule[0]), rule[0])))
        return cls(default=default, prefixes=ordered)

    def carrier_for(self, to_number: str) -> str:
        for prefix, carrier in self.prefixes:
            if to_number.startswith(prefix):
                return carrier
        return self.default


async def route(connection: Connection, to_number: str, table: RoutingTable) -> OnNet | OffNet:
    owner = await numbers_repository.owner_of(connection, to_number)
    if owner is not None:
        return OnNet(owner)
    return OffNet(table.carrier_for(to_number))
