"""Which numbers could be ported in: a valid NANP number this deployment does not already serve.

A number in the deployment's inventory (for sale or owned by any account) is not portable into it.
The answer never says which account owns a number, nor whether one does."""

from __future__ import annotations

from dataclasses import dataclass, field

from telroute.kit.db import Connection
from telroute.numbers.model import normalize_number
from telroute.porting import repository

MALFORMED = "malformed"
SERVED_HERE = "already_served_here"


@dataclass
class PortabilityCheck:
    """The numbers given, each in `portable` or `nonportable` (with its reason)."""

    portable: list[str] = field(default_factory=list)
    nonportable: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)


async def check(connection: Connection, numbers: list[str]) -> PortabilityCheck:
    """Each number (as given) in `portable` or `nonportable`, in the order given."""
    normalized: dict[str, str] = {}
    result = PortabilityCheck()
    for number in numbers:
        try:
            normalized[number] = normalize_number(number)
        except ValueError as exc:
            result.reasons[number] = f"{MALFORMED}: {exc}"
    served = await repository.served(connection, sorted(set(normalized.values())))
    for number in numbers:
        digits = normalized.get(number)
        if digits is not None and digits in served:
            result.reasons[number] = SERVED_HERE
        (result.nonportable if number in result.reasons else result.portable).append(number)
    return result
