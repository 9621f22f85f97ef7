"""Routing against the real database: an owned number is on-net; otherwise the longest stored prefix
rule names the carrier, then the default rule (prefix ''), then the built-in simulator."""

from __future__ import annotations

import pytest

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.carriers import repository
from telroute.carriers.factory import build_carrier
from telroute.carriers.registry import CarrierRegistry
from telroute.carriers.routing import RoutingTable
from telroute.carriers.simulator import SimulatorCarrier
from telroute.messages.routing import OffNet, OnNet, route
from telroute.messages.tasks import DurableCarrierEvents
from telroute.numbers import repository as numbers_repository
from telroute.numbers import service as numbers_service
from telroute.numbers.inventory import InventoryRow


@pytest.fixture
def deps(isolated_deps: Deps) -> Deps:
    return isolated_deps


def test_the_longest_prefix_wins_then_the_default() -> None:
    table = RoutingTable.build({"1": "a", "1206": "b", "12065": "c", "": "d"}, "simulator")
    assert [table.carrier_for(n) for n in ("12065550100", "12064550100", "13125550100", "44")] == ["c", "b", "a", "d"]
    assert RoutingTable.build({"1312": "a"}, "simulator").carrier_for("12065550100") == "simulator"


async def test_stored_rules_route_messages_and_owned_numbers_stay_on_net(deps: Deps) -> None:
    owned = "12065550177"
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, "routing", now=deps.clock())
        found = await accounts_repository.by_access_key(connection, keys.access_key)
        assert found is not None
        row = InventoryRow(owned, "206", "555", "WA", "SEATTLE", "standard", 1_000_000_000, 1_000_000_000)
        await numbers_service.add_inventory(connection, [row])
        assert await numbers_repository.purchase(
            connection, owned, found[0].id, cnam=True, messaging=True, now=deps.clock()
        )
        await repository.set_prefix(connection, "1206", "west")
        await repository.set_prefix(connection, "", "main")
    registry = CarrierRegistry(deps.db, deps.clock, SimulatorCarrier(delay=0.0), build_carrier, holder="w")
    await registry.start(DurableCarrierEvents(deps))

    async def routed(number: str) -> OnNet | OffNet:
        owners = await numbers_repository.owners_of(deps.db, [number, "19995550100"])
        return route(owners.get(number), number, registry.table)

    try:
        on_net = await routed(owned)
        assert isinstance(on_net, OnNet) and on_net.owner["account_id"] == found[0].id
        assert await routed("12065550100") == OffNet("west")
        assert await routed("13125550100") == OffNet("main")
        async with deps.db.transaction() as connection:
            assert await repository.delete_prefix(connection, "")
        await registry.refresh()
        assert await routed("13125550100") == OffNet("simulator")
    finally:
        await registry.close()
