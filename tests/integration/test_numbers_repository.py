"""numbers/repository.py and numbers/service.py on a real database (SQLite, or PostgreSQL when configured).

On PostgreSQL the suite shares one database with the end-to-end server, so every test works in an
exchange of a reserved (N9X) area code of its own and deletes it afterwards.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.errors import NotFound
from telroute.kit import db as dbkit
from telroute.kit.db import sql
from telroute.kit.jsonapi import Page
from telroute.numbers import answers, model, repository, service
from telroute.numbers.inputs import PurchaseBody
from telroute.numbers.inventory import InventoryRow
from telroute.numbers.repository import NumberFilters

CHEAP = 1_000_000_000
DEAR = 3_990_000_000
_DELETE_NUMBERS = sql("DELETE FROM numbers WHERE npa = :npa AND nxx = :nxx")
_DELETE_BLOCKS = sql("DELETE FROM inventory_blocks WHERE npa = :npa AND nxx = :nxx")
_BLOCKS = sql("SELECT setup_cost_nd, available FROM inventory_blocks WHERE npa = :npa AND nxx = :nxx")


@dataclass(frozen=True)
class Block:
    npa: str
    nxx: str

    @property
    def prefix(self) -> str:
        return f"1{self.npa}{self.nxx}"

    def row(self, line: str, *, setup: int = CHEAP, state: str = "zz", rate_center: str = "testville") -> InventoryRow:
        value = self.prefix + line
        return InventoryRow(value, self.npa, self.nxx, state, rate_center, "standard", setup, 1_250_000_000)

    def filters(self, **extra: str) -> NumberFilters:
        return NumberFilters(low=self.prefix, high=model.prefix_upper_bound(self.prefix), **extra)


@pytest.fixture
async def block(deps: Deps) -> AsyncIterator[Block]:
    chosen = Block(random.choice(["591", "592", "593", "595", "597", "598"]), str(random.randrange(200, 1000)))
    yield chosen
    params = {"npa": chosen.npa, "nxx": chosen.nxx}
    async with deps.db.transaction() as connection:
        await connection.execute(_DELETE_NUMBERS, params)
        await connection.execute(_DELETE_BLOCKS, params)


async def _account(deps: Deps, name: str) -> Account:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, name, now=0)
    found = await accounts_repository.by_access_key(deps.db, keys.access_key)
    assert found is not None
    return found[0]


async def _add(deps: Deps, rows: list[InventoryRow]) -> int:
    async with deps.db.transaction() as connection:
        return await service.add_inventory(connection, rows)


async def _buy(deps: Deps, account: Account, value: str) -> None:
    async with deps.db.transaction() as connection:
        await service.purchase(connection, account, value, PurchaseBody(), now=1)


async def _blocks(deps: Deps, block: Block) -> dict[int, int]:
    rows = await deps.db.fetch(_BLOCKS, {"npa": block.npa, "nxx": block.nxx})
    return {row["setup_cost_nd"]: row["available"] for row in rows}


# --- search -----------------------------------------------------------------------------------------------


async def test_search_is_ordered_by_value_and_paged(deps: Deps, block: Block) -> None:
    lines = ["9001", "0042", "5555", "1234", "0007", "4321"]
    rows = [block.row(line) for line in lines]
    random.shuffle(rows)
    assert await _add(deps, rows) == len(lines)
    ordered = sorted(row.value for row in rows)
    found, more = await service.search_available(deps.db, block.filters(), Page(limit=4, offset=0))
    assert [row["value"] for row in found] == ordered[:4] and more
    rest, more = await service.search_available(deps.db, block.filters(), Page(limit=4, offset=4))
    assert [row["value"] for row in rest] == ordered[4:] and not more
    assert set(found[0].keys()) == {"value", "state", "rate_center", "number_type", "setup_cost_nd", "monthly_cost_nd"}


async def test_search_filters(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("1357", rate_center="north"), block.row("2468", state="yy"), block.row("1350")])
    search = repository.search

    async def values(filters: NumberFilters) -> list[str]:
        return [row["value"] for row in await search(deps.db, filters, account_id=None, limit=10, offset=0)]

    assert await values(block.filters(ends_with="57")) == [block.prefix + "1357"]
    assert await values(block.filters(contains="135")) == [block.prefix + "1350", block.prefix + "1357"]
    assert await values(block.filters(state="yy")) == [block.prefix + "2468"]
    assert await values(block.filters(state="zz", rate_center="north")) == [block.prefix + "1357"]
    assert await values(block.filters(number_type="tollfree")) == []


async def test_owned_search_sees_only_the_accounts_numbers(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row(line) for line in ("0100", "0200", "0300")])
    mine, theirs = await _account(deps, "mine"), await _account(deps, "theirs")
    await _buy(deps, mine, block.prefix + "0300")
    await _buy(deps, mine, block.prefix + "0100")
    await _buy(deps, theirs, block.prefix + "0200")
    found, more = await service.search_owned(deps.db, mine, block.filters(), Page(limit=10, offset=0))
    assert [row["value"] for row in found] == [block.prefix + "0100", block.prefix + "0300"] and not more
    available, _ = await service.search_available(deps.db, block.filters(), Page(limit=10, offset=0))
    assert available == []


# --- purchase, release and the block counts ---------------------------------------------------------------


async def test_block_counts_follow_purchase_and_release(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0101", setup=DEAR), block.row("0150"), block.row("0151")])
    assert await _blocks(deps, block) == {CHEAP: 2, DEAR: 1}
    account = await _account(deps, "buyer")
    await _buy(deps, account, block.prefix + "0150")
    await _buy(deps, account, block.prefix + "0151")
    assert await _blocks(deps, block) == {CHEAP: 0, DEAR: 1}
    cheap_only, _ = await service.exchanges(deps.db, block.npa, CHEAP, Page(limit=10, offset=0))
    assert cheap_only == []
    any_price, _ = await service.exchanges(deps.db, block.npa, DEAR, Page(limit=10, offset=0))
    assert any_price == [block.npa + block.nxx]
    async with deps.db.transaction() as connection:
        await service.release(connection, account, block.prefix + "0150")
    assert await _blocks(deps, block) == {CHEAP: 1, DEAR: 1}
    again = await service.exchanges(deps.db, block.npa, CHEAP, Page(limit=10, offset=0))
    assert again == ([block.npa + block.nxx], False)


async def test_areacodes_come_and_go_with_available_numbers(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0150", setup=DEAR)])
    everything, _ = await service.areacodes(deps.db, DEAR, Page(limit=1000, offset=0))
    assert block.npa in everything and everything == sorted(set(everything))
    cheaper, _ = await service.areacodes(deps.db, DEAR - 1, Page(limit=1000, offset=0))
    assert block.npa not in cheaper
    await _buy(deps, await _account(deps, "buyer"), block.prefix + "0150")
    after, _ = await service.areacodes(deps.db, DEAR, Page(limit=1000, offset=0))
    assert block.npa not in after


async def test_areacode_pages_join_up(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0150")])
    whole, _ = await service.areacodes(deps.db, 2**62, Page(limit=1000, offset=0))
    pages = []
    for offset in range(0, len(whole) + 3, 3):
        found, more = await service.areacodes(deps.db, 2**62, Page(limit=3, offset=offset))
        pages.extend(found)
        assert more == (offset + 3 < len(whole))
    assert pages == whole


async def test_a_number_is_bought_once_and_released_only_by_its_owner(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0160")])
    owner, other = await _account(deps, "owner"), await _account(deps, "other")
    value = block.prefix + "0160"
    await _buy(deps, owner, value)
    with pytest.raises(NotFound):
        await _buy(deps, other, value)
    with pytest.raises(NotFound):
        async with deps.db.transaction() as connection:
            await service.release(connection, other, value)
    row, routes = await service.detail(deps.db, owner, value)
    assert row["primary_route_id"] == 0 and [route["id"] for route in routes] == [0]


async def test_per_number_callbacks_are_stored_for_messaging(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0170")])
    account = await _account(deps, "callbacks")
    value = block.prefix + "0170"
    await _buy(deps, account, value)
    async with deps.db.transaction() as connection:
        await service.set_number_callback(connection, account, value, "dlr_callback", "https://a.example/dlr")
        await service.set_number_callback(connection, account, value, "mms_callback", "https://a.example/mms")
    owner = await repository.owner_of(deps.db, value)
    assert owner is not None and owner["account_id"] == account.id
    assert (owner["sms_dlr_callback"], owner["mms_callback"], owner["sms_callback"]) == (
        "https://a.example/dlr",
        "https://a.example/mms",
        None,
    )


# --- import: all or nothing -------------------------------------------------------------------------------


async def test_import_with_a_conflict_adds_nothing(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0180"), block.row("0181")])
    await _buy(deps, await _account(deps, "owner"), block.prefix + "0181")
    rows = [block.row("0182"), block.row("0180"), block.row("0183"), block.row("0181")]
    async with deps.db.transaction() as connection:
        result = await service.import_inventory(connection, rows)
    assert result.added == 0
    assert sorted(result.conflicts) == [
        (block.prefix + "0180", "already in the inventory"),
        (block.prefix + "0181", "owned by an account"),
    ]
    found, _ = await service.search_available(deps.db, block.filters(), Page(limit=10, offset=0))
    assert [row["value"] for row in found] == [block.prefix + "0180"]
    assert await _blocks(deps, block) == {CHEAP: 1}


async def test_import_without_conflicts_adds_everything(deps: Deps, block: Block) -> None:
    rows = [block.row(f"02{index:02d}") for index in range(30)]
    checked: list[int] = []
    added: list[int] = []
    async with deps.db.transaction() as connection:
        result = await service.import_inventory(connection, rows, checked=checked.append, added=added.append)
    assert (result.added, result.conflicts) == (30, [])
    assert sum(checked) == sum(added) == 30
    assert await _blocks(deps, block) == {CHEAP: 30}


async def test_a_failed_insert_leaves_nothing_behind(deps: Deps, block: Block) -> None:
    rows = [block.row("0300"), block.row("0301"), block.row("0300")]  # a duplicate the database refuses
    with pytest.raises(Exception, match=r"(?i)unique"):
        async with deps.db.transaction() as connection:
            await service.add_inventory(connection, rows)
    found, _ = await service.search_available(deps.db, block.filters(), Page(limit=10, offset=0))
    assert found == [] and await _blocks(deps, block) == {}


async def test_adding_missing_inventory_skips_what_exists(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0400")])
    account = await _account(deps, "owner")
    await _buy(deps, account, block.prefix + "0400")
    rows = [block.row("0400"), block.row("0401"), block.row("0402")]
    async with deps.db.transaction() as connection:
        assert await service.add_missing_inventory(connection, rows) == (2, 1)
    assert await _blocks(deps, block) == {CHEAP: 2}
    owned, _ = await service.search_owned(deps.db, account, block.filters(), Page(limit=10, offset=0))
    assert [row["value"] for row in owned] == [block.prefix + "0400"]


async def test_inventory_stats_add_up(deps: Deps, block: Block) -> None:
    before = await service.inventory_stats(deps.db)
    await _add(deps, [block.row("0500"), block.row("0501")])
    await _buy(deps, await _account(deps, "owner"), block.prefix + "0500")
    after = await service.inventory_stats(deps.db)
    assert after["total"] - before["total"] == 2
    assert (after["available"] - before["available"], after["owned"] - before["owned"]) == (1, 1)
    assert after["total"] == after["available"] + after["owned"]


# --- the inventory's kept answers (numbers/answers.py) --------------------------------------------------------


class Answering:
    """The area codes with a number at most DEAR, answered through the process's kept answers; counts renders."""

    def __init__(self, deps: Deps, *, before_returning: Callable[[], Awaitable[None]] | None = None) -> None:
        self.deps = deps
        self.renders = 0
        self._before_returning = before_returning

    async def _render(self) -> bytes:
        self.renders += 1
        found, _ = await service.areacodes(self.deps.db, DEAR, Page(limit=1000, offset=0))
        if self._before_returning is not None:
            await self._before_returning()
        return json.dumps(found).encode()

    async def areacodes(self) -> list[str]:
        document = await answers.answered(self.deps.inventory_answers, self.deps.db, ("areacodes", DEAR), self._render)
        codes: list[str] = json.loads(document)
        return codes


async def test_an_answer_is_kept_until_this_process_buys_a_number(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0600")])
    answering = Answering(deps)
    assert block.npa in await answering.areacodes()
    assert block.npa in await answering.areacodes()
    assert answering.renders == 1
    await _buy(deps, await _account(deps, "buyer"), block.prefix + "0600")
    assert block.npa not in await answering.areacodes()
    assert answering.renders == 2


async def test_a_purchase_by_another_process_drops_the_answers(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0610")])
    account = await _account(deps, "buyer")
    answering = Answering(deps)
    assert block.npa in await answering.areacodes()
    elsewhere = await dbkit.connect(deps.db.url)
    try:
        async with elsewhere.transaction() as connection:
            await service.purchase(connection, account, block.prefix + "0610", PurchaseBody(), now=1)
        for _ in range(200):  # on PostgreSQL the NOTIFY arrives a moment after the commit
            if block.npa not in await answering.areacodes():
                break
            await asyncio.sleep(0.01)
        assert block.npa not in await answering.areacodes()
    finally:
        await elsewhere.close()


async def test_an_answer_read_before_this_process_commits_a_change_is_not_kept(deps: Deps, block: Block) -> None:
    await _add(deps, [block.row("0620")])
    account = await _account(deps, "buyer")

    async def buy_meanwhile() -> None:  # another request of this process, between the read and the keeping
        if answering.renders == 1:
            await _buy(deps, account, block.prefix + "0620")

    answering = Answering(deps, before_returning=buy_meanwhile)
    assert block.npa in await answering.areacodes()  # what was read before the purchase
    assert block.npa not in await answering.areacodes()
    assert answering.renders == 2


async def test_a_large_answer_is_rendered_each_time(deps: Deps) -> None:
    renders = 0

    async def render() -> bytes:
        nonlocal renders
        renders += 1
        return b"x" * (answers.MAX_KEPT_BYTES + 1)

    for _ in range(2):
        await answers.answered(deps.inventory_answers, deps.db, ("large",), render)
    assert renders == 2
