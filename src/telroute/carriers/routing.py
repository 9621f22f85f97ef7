"""The routing table: which carrier takes an off-net message, by the longest matching prefix.

Whether a message is on-net at all is decided on the message side (`messages/routing.py`), which
asks this table (through the registry) only about numbers this server does not own."""

from __future__ import annotations

from dataclasses import dataclass


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
