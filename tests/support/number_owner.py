"""An account that owns one messaging number, written straight through the services (integration tests)."""

from __future__ import annotations

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.numbers import repository as numbers_repository
from telroute.numbers import service as numbers_service
from telroute.numbers.inventory import InventoryRow


async def account_owning(deps: Deps, name: str, number: str, *, per_second: int, now: int) -> Account:
    """A new account sending at most `per_second` messages a second, owning `number` (a Seattle number)."""
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, name, now=now)
        await accounts_service.set_limits(connection, keys.access_key, per_second, per_second)
        found = await accounts_repository.by_access_key(connection, keys.access_key)
        assert found is not None
        row = InventoryRow(number, "206", "555", "WA", "SEATTLE", "standard", 1_000_000_000, 1_000_000_000)
        await numbers_service.add_inventory(connection, [row])
        assert await numbers_repository.purchase(connection, number, found[0].id, cnam=True, messaging=True, now=now)
        return await accounts_service.authenticate(connection, (keys.access_key, keys.secret_key))
