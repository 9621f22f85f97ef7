"""The wire shape of a portability check: the response document as Structs, rendered with msgspec and
the source of its OpenAPI components."""

from __future__ import annotations

from typing import Annotated

import msgspec

from telroute.kit.wire import Closed
from telroute.porting.portability import PortabilityCheck

# A number as the client gave it (trimmed), which may be malformed: it is echoed, not interpreted.
GivenNumber = Annotated[str, msgspec.Meta(min_length=1)]


class PortabilityData(Closed):
    hypernetwork_enabled: Annotated[
        list[GivenNumber], msgspec.Meta(max_length=0, description="Always empty: no Flowroute hypernetwork here.")
    ]
    nonportable: list[GivenNumber]
    portable: list[GivenNumber]


class PortabilityMeta(Closed):
    nonportable_reasons: Annotated[
        dict[GivenNumber, str],
        msgspec.Meta(
            description="Why each nonportable number is: `malformed: ...` or `already_served_here` "
            "(in this deployment's inventory, for sale or owned)."
        ),
    ]


class Portability(Closed):
    data: PortabilityData
    meta: PortabilityMeta


# The documents the porting contract answers with (their parts are components too).
DOCUMENTS = (Portability,)


def portability(check: PortabilityCheck) -> Portability:
    data = PortabilityData(hypernetwork_enabled=[], nonportable=check.nonportable, portable=check.portable)
    return Portability(data=data, meta=PortabilityMeta(check.reasons))
