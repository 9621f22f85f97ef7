"""Idempotency keys against the real database: claim, replay, mismatch and the 24-hour window,
at explicit times."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.errors import BadRequest, Unprocessable
from telroute.kit import idempotency

T0 = 1_700_000_000_000_000


DAY = 24 * 3600 * 1_000_000
ANSWER = {"data": {"id": "mdr2-" + "a" * 32, "type": "message"}}


def request(key: str | None, body: bytes = b'{"to": "1"}', *, path: str = "/v2.1/messages") -> Request:
    """A real Starlette request whose body has been read, as the endpoint has it when it claims the key."""
    headers = [] if key is None else [(b"idempotency-key", key.encode("latin-1"))]
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "query_string": b""}
    made = Request(scope)
    made.state.raw_body = body
    return made


async def new_account_id(deps: Deps) -> int:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, "idempotency", now=T0)
        found = await accounts_repository.by_access_key(connection, keys.access_key)
    assert found is not None
    return found[0].id


async def claim(deps: Deps, made: Request, account: int, *, now: int, scope: str = "message") -> bytes | None:
    """One request's transaction: claim the key and store an answer, or get the stored answer back."""
    async with deps.db.transaction() as connection:
        replay = await idempotency.begin(connection, made, account, scope, now=now)
        if replay is not None:
            assert replay.status_code == 202
            assert replay.headers["idempotent-replayed"] == "true"
            assert replay.media_type == "application/vnd.api+json"
            return bytes(replay.body)
        answer = {"data": {**ANSWER["data"], "at": now}}
        response = await idempotency.remember(connection, made, account, scope, answer, 202)
        assert "idempotent-replayed" not in response.headers
    return None


async def test_the_first_use_claims_and_later_uses_replay_the_stored_answer(deps: Deps) -> None:
    account = await new_account_id(deps)
    assert await claim(deps, request("k"), account, now=T0) is None
    first = b'{"data":{"id":"mdr2-' + b"a" * 32 + b'","type":"message","at":' + str(T0).encode() + b"}}"
    assert await claim(deps, request("k"), account, now=T0 + 1) == first
    assert await claim(deps, request("k"), account, now=T0 + DAY) == first


async def test_another_body_or_path_with_the_same_key_is_422(deps: Deps) -> None:
    account = await new_account_id(deps)
    assert await claim(deps, request("k", b'{"to": "1"}'), account, now=T0) is None
    for other in (request("k", b'{"to": "2"}'), request("k", b'{"to": "1"} '), request("k", path="/v2/numbers/1")):
        with pytest.raises(Unprocessable) as caught:
            await claim(deps, other, account, now=T0 + 5)
        assert caught.value.code == "idempotency_mismatch"
        assert caught.value.detail == "Idempotency-Key was already used with a different request body"
    # the mismatch changed nothing: the original still replays
    assert await claim(deps, request("k", b'{"to": "1"}'), account, now=T0 + 6) is not None


async def test_the_key_expires_after_24_hours(deps: Deps) -> None:
    account = await new_account_id(deps)
    assert await claim(deps, request("k", b"one"), account, now=T0) is None
    assert await claim(deps, request("k", b"one"), account, now=T0 + DAY) is not None  # the window's last µs
    with pytest.raises(Unprocessable):
        await claim(deps, request("k", b"two"), account, now=T0 + DAY)
    # one microsecond later the key is free again, for any body, and its new answer replays from then on
    assert await claim(deps, request("k", b"two"), account, now=T0 + DAY + 1) is None
    replayed = await claim(deps, request("k", b"two"), account, now=T0 + DAY + 2)
    assert replayed is not None
    assert str(T0 + DAY + 1).encode() in replayed
    with pytest.raises(Unprocessable):
        await claim(deps, request("k", b"one"), account, now=T0 + DAY + 3)


async def test_keys_are_separate_per_account_and_scope(deps: Deps) -> None:
    first, second = await new_account_id(deps), await new_account_id(deps)
    assert await claim(deps, request("k"), first, now=T0) is None
    assert await claim(deps, request("k"), second, now=T0 + 1) is None
    assert await claim(deps, request("k"), first, now=T0 + 2, scope="purchase") is None
    assert await claim(deps, request("other"), first, now=T0 + 3) is None
    assert str(T0).encode() in (await claim(deps, request("k"), first, now=T0 + 4) or b"")
    assert str(T0 + 1).encode() in (await claim(deps, request("k"), second, now=T0 + 5) or b"")


async def test_a_rolled_back_request_leaves_the_key_unclaimed(deps: Deps) -> None:
    account = await new_account_id(deps)

    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with deps.db.transaction() as connection:
            assert await idempotency.begin(connection, request("k", b"one"), account, "message", now=T0) is None
            raise Refused  # e.g. the rate limit said no
    assert await claim(deps, request("k", b"two"), account, now=T0 + 1) is None


async def test_without_a_key_nothing_is_stored(deps: Deps) -> None:
    account = await new_account_id(deps)
    assert await claim(deps, request(None), account, now=T0) is None
    assert await claim(deps, request(None), account, now=T0 + 1) is None


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "new\nline", "tab\t"])
async def test_malformed_keys_are_400(deps: Deps, key: str) -> None:
    account = await new_account_id(deps)
    with pytest.raises(BadRequest) as caught:
        await claim(deps, request(key), account, now=T0)
    assert caught.value.detail == "Idempotency-Key must be 1 to 255 printable ASCII characters"


@pytest.mark.parametrize("key", ["a", "x" * 255, "order-1234_ABC:~!"])
async def test_well_formed_keys(deps: Deps, key: str) -> None:
    account = await new_account_id(deps)
    assert await claim(deps, request(key), account, now=T0) is None
    assert await claim(deps, request(key), account, now=T0 + 1) is not None
