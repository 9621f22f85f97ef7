"""The messages repository against the real database: paging order and bounds, receipts, scoping."""

from __future__ import annotations

import contextlib
from typing import Any

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.messages import model, repository, service

T0 = 1_700_000_000_000_000


async def new_account_id(deps: Deps) -> int:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, "repository", now=T0)
        found = await accounts_repository.by_access_key(connection, keys.access_key)
    assert found is not None
    return found[0].id


def message_values(account: int, created: int, body: str = "x") -> dict[str, Any]:
    return {
        "public_id": model.new_message_id(),
        "account_id": account,
        "direction": "outbound",
        "from_number": "12065550100",
        "to_number": "13125550123",
        "body": body,
        "is_mms": False,
        "status": model.QUEUED,
        "message_encoding": 0,
        "message_type": "longcode",
        "segments": 1,
        "amount_nd": 4_000_000,
        "dlr_callback": None,
        "callback_url": None,
        "now": created,
    }


async def insert(deps: Deps, account: int, created: int, body: str = "x") -> tuple[int, str]:
    values = message_values(account, created, body)
    async with deps.db.transaction() as connection:
        return await repository.insert(connection, values), values["public_id"]


async def page_ids(
    deps: Deps, account: int, *, start: int = 0, end: int = 2**62, limit: int = 100, offset: int = 0
) -> list[int]:
    rows = await repository.page(deps.db, account, start=start, end=end, limit=limit, offset=offset)
    return [row["id"] for row in rows]


async def test_pages_are_newest_first_and_ties_go_to_the_later_insert(deps: Deps) -> None:
    account = await new_account_id(deps)
    a, b, c, d = [(await insert(deps, account, T0 + offset))[0] for offset in (10, 20, 20, 30)]
    assert await page_ids(deps, account) == [d, c, b, a]
    assert await page_ids(deps, account, limit=2) == [d, c]
    assert await page_ids(deps, account, limit=2, offset=2) == [b, a]
    assert await page_ids(deps, account, limit=2, offset=3) == [a]
    assert await page_ids(deps, account, limit=2, offset=4) == []


async def test_a_clock_behind_the_newest_message_never_reorders_the_list(deps: Deps) -> None:
    """Hosts' clocks differ: a message stamped earlier than the account's newest takes the newest time,
    so the list keeps insertion order and every date range is one run of positions."""
    account = await new_account_id(deps)
    first, _ = await insert(deps, account, T0 + 30)
    behind, _ = await insert(deps, account, T0 + 10)
    later, _ = await insert(deps, account, T0 + 40)
    assert await page_ids(deps, account) == [later, behind, first]
    stamped = await repository.by_id(deps.db, behind)
    assert stamped is not None and stamped["created_at_us"] == T0 + 30
    assert await page_ids(deps, account, start=T0 + 31) == [later]


async def test_a_rolled_back_insert_leaves_no_gap_in_the_positions(deps: Deps) -> None:
    account = await new_account_id(deps)
    ids = [(await insert(deps, account, T0 + offset))[0] for offset in (0, 1)]
    with contextlib.suppress(RuntimeError):
        async with deps.db.transaction() as connection:
            await repository.insert(connection, message_values(account, T0 + 2, "rolled back"))
            raise RuntimeError("the request failed after the insert")
    ids.append((await insert(deps, account, T0 + 3))[0])
    for offset in range(3):
        assert await page_ids(deps, account, limit=1, offset=offset) == [ids[2 - offset]]
    assert await page_ids(deps, account, limit=1, offset=3) == []


async def test_start_is_inclusive_and_end_exclusive(deps: Deps) -> None:
    account = await new_account_id(deps)
    ids = [(await insert(deps, account, T0 + offset))[0] for offset in (0, 1, 2, 3)]
    assert await page_ids(deps, account, start=T0 + 1, end=T0 + 3) == [ids[2], ids[1]]
    assert await page_ids(deps, account, start=T0 + 3) == [ids[3]]
    assert await page_ids(deps, account, start=T0 + 4) == []
    assert await page_ids(deps, account, start=T0, end=T0) == []
    assert await page_ids(deps, account, start=T0, end=T0 + 1) == [ids[0]]


async def test_pages_hold_only_the_accounts_own_messages(deps: Deps) -> None:
    mine, theirs = await new_account_id(deps), await new_account_id(deps)
    own, public_id = await insert(deps, mine, T0)
    other, other_public_id = await insert(deps, theirs, T0 + 1)
    assert await page_ids(deps, mine) == [own]
    assert await page_ids(deps, theirs) == [other]
    found = await repository.by_public_id(deps.db, public_id, mine)
    assert found is not None and found["id"] == own
    assert await repository.by_public_id(deps.db, public_id, theirs) is None
    assert await repository.by_public_id(deps.db, other_public_id, mine) is None


async def test_service_page_reports_whether_more_follow(deps: Deps) -> None:
    account = await new_account_id(deps)
    a, b, c, d, e = [(await insert(deps, account, T0 + offset))[0] for offset in range(5)]
    owner = await accounts_repository.by_id(deps.db, account)
    assert owner is not None
    for limit, offset, expected, more in [
        (2, 0, [e, d], True),
        (2, 2, [c, b], True),
        (2, 3, [b, a], False),
        (5, 0, [e, d, c, b, a], False),
        (4, 0, [e, d, c, b], True),
        (1, 5, [], False),
    ]:
        page, has_more = await service.page(deps.db, owner, start=0, end=2**62, limit=limit, offset=offset)
        assert [row["id"] for row, _ in page] == expected
        assert has_more is more


async def test_receipts_come_newest_first_per_message(deps: Deps) -> None:
    account = await new_account_id(deps)
    first, _ = await insert(deps, account, T0)
    second, _ = await insert(deps, account, T0 + 1)
    async with deps.db.transaction() as connection:
        for message_id, level, status, code in [
            (first, 1, "smsc submit", None),
            (second, 1, "smsc submit", None),
            (first, 2, "delivered", 1000),
        ]:
            await repository.add_receipt(
                connection, message_id, level=level, status=status, code=code, description=status, now=T0 + 5
            )
    receipts = await repository.receipts_of(deps.db, [first, second])
    assert [(row["level"], row["status"], row["status_code"]) for row in receipts[first]] == [
        (2, "delivered", 1000),
        (1, "smsc submit", None),
    ]
    assert [row["level"] for row in receipts[second]] == [1]
    assert await repository.receipts_of(deps.db, []) == {}


async def test_status_only_moves_forward_from_queued_to_final(deps: Deps) -> None:
    account = await new_account_id(deps)
    message_id, _ = await insert(deps, account, T0)
    async with deps.db.transaction() as connection:
        assert await repository.mark_submitted(connection, message_id, carrier="simulator", parts=1, now=T0 + 1)
        assert not await repository.mark_submitted(connection, message_id, carrier="simulator", parts=1, now=T0 + 2)
        assert await repository.advance_status(connection, message_id, "message buffered", now=T0 + 3)
        assert not await repository.advance_status(connection, message_id, "message buffered", now=T0 + 4)
        assert await repository.advance_status(connection, message_id, "delivered", now=T0 + 5)
        assert not await repository.advance_status(connection, message_id, "undelivered", now=T0 + 6, error="late")
    row = await repository.by_id(deps.db, message_id)
    assert row is not None
    assert (row["status"], row["carrier"], row["error"]) == ("delivered", "simulator", None)
    assert row["updated_at_us"] == T0 + 5


def receipt(level: int, status: str, code: int | None, now: int) -> dict[str, Any]:
    return {"level": level, "status": status, "status_code": code, "description": f"is {status}", "created_at_us": now}


async def test_a_status_change_writes_its_receipt_only_when_the_status_moved(deps: Deps) -> None:
    account = await new_account_id(deps)
    message_id, _ = await insert(deps, account, T0)
    submitted, delivered = receipt(1, "smsc submit", None, T0 + 1), receipt(2, "delivered", 1000, T0 + 5)
    async with deps.db.transaction() as connection:
        for expected, ids in ((True, ("c-a", "c-b")), (False, ("c-x",))):
            moved = await repository.mark_submitted_with_receipt(
                connection, message_id, submitted, carrier="simulator", ids=ids
            )
            assert moved is expected
        parts = [await repository.locked_by_carrier_id(connection, "simulator", i) for i in ("c-a", "c-b", "c-x")]
        assert [None if part is None else part["part"] for part in parts] == [0, 1, None]  # ids only when it moved
        assert await repository.advance_status_with_receipt(connection, message_id, delivered)
        late = receipt(2, "undelivered", 1005, T0 + 6)
        assert not await repository.advance_status_with_receipt(connection, message_id, late, error="late")
    receipts = (await repository.receipts_of(deps.db, [message_id]))[message_id]
    columns = ("level", "status", "status_code", "description", "created_at_us")
    assert [tuple(row[column] for column in columns) for row in receipts] == [
        (2, "delivered", 1000, "is delivered", T0 + 5),
        (1, "smsc submit", None, "is smsc submit", T0 + 1),
    ]
    row = await repository.by_id(deps.db, message_id)
    assert row is not None
    assert (row["status"], row["carrier"], row["parts_pending"], row["error"]) == ("delivered", "simulator", 2, None)
    assert row["updated_at_us"] == T0 + 5


async def test_a_carrier_id_finds_its_part_together_with_its_message(deps: Deps) -> None:
    account = await new_account_id(deps)
    message_id, public_id = await insert(deps, account, T0)
    async with deps.db.transaction() as connection:
        submitted = receipt(1, model.SUBMITTED, None, T0 + 1)
        await repository.mark_submitted_with_receipt(
            connection, message_id, submitted, carrier="simulator", ids=("c-1", "c-2")
        )
        found = await repository.locked_by_carrier_id(connection, "simulator", "c-2")
        missing = await repository.locked_by_carrier_id(connection, "other", "c-2")
    assert found is not None
    assert missing is None
    part = (found["message_id"], found["part"], found["carrier_message_id"], found["state"])
    assert part == (message_id, 1, "c-2", None)
    assert (found["id"], found["public_id"], found["account_id"], found["status"]) == (
        message_id,
        public_id,
        account,
        model.SUBMITTED,
    )
