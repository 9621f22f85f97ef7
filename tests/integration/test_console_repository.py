"""The console's queries against the real database (SQLite and PostgreSQL): search terms, the live
marker, callbacks and dead letters of one message, and one account never finding another's."""

from __future__ import annotations

import datetime
import time
from typing import Any

from telroute.bootstrap import Deps
from telroute.console import repository, search, service
from telroute.errors import NotFound
from telroute.messages import repository as messages_repository
from telroute.webhooks import repository as webhooks_repository
from tests.integration.test_messages_repository import message_values, new_account_id

# An hour ago, on a whole second: within every retention window. The PostgreSQL pass shares its database with
# servers whose workers purge messages older than the sandbox's 7 days, the oldest first (a fixed date in
# 2023 lost this module's first message to one of them, once).
T0 = (int(time.time()) - 3600) * 1_000_000


def _iso(at_us: int) -> str:
    second = datetime.datetime.fromtimestamp(at_us // 1_000_000, datetime.UTC)
    return f"{second:%Y-%m-%dT%H:%M:%S}.{at_us % 1_000_000:06d}Z"


async def _message(deps: Deps, account: int, created: int, **changes: Any) -> str:
    values = {**message_values(account, created), **changes}
    async with deps.db.transaction() as connection:
        await messages_repository.insert(connection, values)
    return str(values["public_id"])


async def _found(deps: Deps, account: int, text: str) -> list[str]:
    rows = await repository.search(deps.db, account, search.parse(text), limit=50, offset=0)
    return [row["body"] for row in rows]


async def test_every_search_term_must_match(deps: Deps) -> None:
    account = await new_account_id(deps)
    await _message(deps, account, T0 + 1, body="Pineapple order", to_number="13125550123")
    await _message(deps, account, T0 + 2, body="banana order", is_mms=True)
    await _message(deps, account, T0 + 3, body="pineapple reply", direction="inbound", status="delivered")
    assert await _found(deps, account, "") == ["pineapple reply", "banana order", "Pineapple order"]
    assert await _found(deps, account, f"after:{_iso(T0 + 2)}") == ["pineapple reply"]
    assert await _found(deps, account, "PINEAPPLE") == ["pineapple reply", "Pineapple order"]
    assert await _found(deps, account, "pineapple order") == ["Pineapple order"]
    assert await _found(deps, account, "is:mms") == ["banana order"]
    assert await _found(deps, account, "is:sms direction:inbound status:delivered") == ["pineapple reply"]
    assert await _found(deps, account, "direction:outbound") == ["banana order", "Pineapple order"]
    await _message(deps, account, T0 + 4, body="elsewhere order", to_number="14155550100")
    assert await _found(deps, account, "to:+1-312-555-0123 order") == ["banana order", "Pineapple order"]
    assert await _found(deps, account, "order 4155550100") == ["elsewhere order"]
    assert await _found(deps, account, f"before:{_iso(T0 + 2)}") == ["Pineapple order"]
    assert await _found(deps, account, '"e o" 3125550123') == ["Pineapple order"]


async def test_another_account_finds_nothing_of_the_first(deps: Deps) -> None:
    owner, other = await new_account_id(deps), await new_account_id(deps)
    public_id = await _message(deps, owner, T0, body="secret")
    assert await _found(deps, other, "secret") == []
    assert await repository.message(deps.db, other, public_id) is None
    assert await repository.conversation(deps.db, other, "12065550100", "13125550123", limit=10) == []
    async with deps.db.snapshot() as connection:
        assert (await service.message(connection, owner, public_id))["body"] == "secret"


async def test_the_marker_moves_with_new_messages_and_status_changes(deps: Deps) -> None:
    account = await new_account_id(deps)
    assert await repository.marker(deps.db, account) == (0, 0)
    await _message(deps, account, T0)
    first = await repository.marker(deps.db, account)
    assert first == (1, T0)
    rows = await repository.search(deps.db, account, search.parse(""), limit=1, offset=0)
    await messages_repository.advance_status(deps.db, rows[0]["id"], "delivered", now=T0 + 5)
    assert await repository.marker(deps.db, account) == (1, T0 + 5)


async def test_a_message_shows_its_callbacks_and_only_its_own_dead_letters_replay(deps: Deps) -> None:
    owner, other = await new_account_id(deps), await new_account_id(deps)
    public_id = await _message(deps, owner, T0, body="héllo ✓")
    attempt = {"account_id": owner, "event": "sms_dlr", "message_public_id": public_id, "url": "http://x/cb"}
    async with deps.db.transaction() as connection:
        values = {"attempt": 1, "status_code": None, "latency_ms": 3.5, "error": "refused", "now": T0 + 1}
        values |= {"payload": '{"data": 1}', "dead_lettered": True}
        await webhooks_repository.record_attempt(connection, {**attempt, **values})
        dead = {"payload": '{"data": 1}', "last_error": "refused", "attempts": 1, "now": T0 + 2}
        await webhooks_repository.dead_letter(connection, {**attempt, **dead})
    async with deps.db.snapshot() as connection:
        shown = await service.message(connection, owner, public_id)
    assert [c["error"] for c in shown["callbacks"]] == ["refused"]
    (letter,) = shown["dead_letters"]
    # The row says GSM-7 (encoding 0), which cannot carry its text: it is shown as what it needs.
    assert shown["segments"] == {"encoding": "UCS-2", "parts": ["héllo ✓"], "ucs2_characters": ["✓"]}
    async with deps.db.transaction() as connection:
        try:
            await service.replay(connection, other, letter["id"], now=T0 + 3)
            raise AssertionError("another account replayed the dead letter")
        except NotFound:
            pass
        await service.replay(connection, owner, letter["id"], now=T0 + 3)
    async with deps.db.snapshot() as connection:
        assert (await service.message(connection, owner, public_id))["dead_letters"][0]["replayed"] is True
