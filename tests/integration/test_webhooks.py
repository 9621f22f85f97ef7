"""The `deliver_webhook` job against a real HTTP receiver and database: what one try records, when it
retries, when it dead-letters, and replay."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from telroute import bootstrap
from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.config import Settings
from telroute.kit import jobs
from telroute.kit.db import sql
from telroute.kit.jobs import Job
from telroute.kit.worker import Handler, RetryLater
from telroute.webhooks import repository, service, tasks
from telroute.webhooks.service import DELIVER_WEBHOOK
from telroute.webhooks.signing import new_signing_secret
from tests.support.receiver import Receiver

BACKOFF = (0.5, 1.5)
MESSAGE_ID = "mdr2-" + "a" * 32
DOCUMENT = {"data": {"type": "delivery_receipt", "id": MESSAGE_ID, "attributes": {"level": 2}}}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def build(database_url: str, data_dir: Path, *, allow_private: bool = True) -> Deps:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        webhook_backoff=BACKOFF,
        webhook_timeout=5.0,
        allow_private_targets=allow_private,
    )
    deps = await bootstrap.build(settings)
    async with deps.db.transaction() as connection:
        for table in ("jobs", "webhook_attempts", "webhook_dead_letters"):
            await connection.execute(sql(f"DELETE FROM {table}"))
    return deps


@pytest.fixture
async def deps(database_url: str, tmp_path: Path) -> AsyncIterator[Deps]:
    built = await build(database_url, tmp_path)
    yield built
    await built.close()


async def new_account(deps: Deps, *, secret: str | None = None) -> int:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, "hooks", now=deps.clock())
        if secret is not None:
            await accounts_service.set_webhook_secret(connection, keys.access_key, secret)
    account_id = await deps.db.fetchval(sql("SELECT id FROM accounts WHERE access_key = :k"), {"k": keys.access_key})
    return int(account_id)


async def enqueue_and_claim(deps: Deps, account_id: int, url: str) -> Job:
    async with deps.db.transaction() as connection:
        await service.enqueue(
            connection,
            account_id=account_id,
            event="dlr",
            url=url,
            message_public_id=MESSAGE_ID,
            document=DOCUMENT,
            now=deps.clock(),
        )
    [job] = await jobs.claim(deps.db, "test", now=deps.clock(), lease_us=60_000_000, limit=10)
    assert job.kind == DELIVER_WEBHOOK
    return job


async def attempts(deps: Deps) -> list[dict[str, Any]]:
    rows = await deps.db.fetch(
        sql("SELECT event, message_public_id, url, attempt, status_code, latency_ms, error FROM webhook_attempts")
    )
    return [dict(row) for row in rows]


async def dead_letters(deps: Deps) -> list[dict[str, Any]]:
    rows = await deps.db.fetch(
        sql(
            "SELECT id, event, message_public_id, url, payload, last_error, attempts, replayed_at_us "
            "FROM webhook_dead_letters"
        )
    )
    return [dict(row) for row in rows]


async def queued(deps: Deps) -> list[Job]:
    return await jobs.claim(deps.db, "peek", now=deps.clock() + 10**12, lease_us=1, limit=100)


def deliver(deps: Deps) -> Handler:
    return tasks.handlers(deps)[DELIVER_WEBHOOK]


async def test_a_2xx_records_one_attempt_and_finishes_the_job(deps: Deps, receiver: Receiver) -> None:
    receiver.respond("/ok", 201)
    job = await enqueue_and_claim(deps, await new_account(deps), receiver.url("/ok"))
    assert await deliver(deps)(job) is True
    [request] = receiver.requests("/ok")
    assert request.method == "POST"
    assert request.body == json.dumps(DOCUMENT, separators=(",", ":")).encode()
    assert request.headers["content-type"] == "application/json"
    assert "webhook-signature" not in request.headers
    [attempt] = await attempts(deps)
    assert {key: value for key, value in attempt.items() if key != "latency_ms"} == {
        "event": "dlr",
        "message_public_id": MESSAGE_ID,
        "url": receiver.url("/ok"),
        "attempt": 1,
        "status_code": 201,
        "error": None,
    }
    assert 0 < attempt["latency_ms"] < 5000
    assert await queued(deps) == []
    assert await dead_letters(deps) == []


async def test_a_signed_callback_verifies_with_the_reference_verifier(deps: Deps, receiver: Receiver) -> None:
    secret = new_signing_secret()
    job = await enqueue_and_claim(deps, await new_account(deps, secret=secret), receiver.url("/signed"))
    await deliver(deps)(job)
    [request] = receiver.requests("/signed")
    assert Webhook(secret).verify(request.body, request.headers) == DOCUMENT
    assert request.headers["webhook-id"] == job.payload["webhook_id"]


async def test_a_failure_asks_to_run_again_after_the_backoff_step(deps: Deps, receiver: Receiver) -> None:
    receiver.respond("/busy", 503)
    job = await enqueue_and_claim(deps, await new_account(deps), receiver.url("/busy"))
    with pytest.raises(RetryLater) as first:
        await deliver(deps)(job)
    assert (str(first.value), first.value.delay) == ("HTTP 503", BACKOFF[0])
    with pytest.raises(RetryLater) as second:
        await deliver(deps)(dataclasses.replace(job, attempts=2))
    assert second.value.delay == BACKOFF[1]
    assert [(row["attempt"], row["status_code"], row["error"]) for row in await attempts(deps)] == [
        (1, 503, "HTTP 503"),
        (2, 503, "HTTP 503"),
    ]
    assert [item.id for item in await queued(deps)] == [job.id]  # the worker settles it: not finished here
    assert await dead_letters(deps) == []


async def test_the_last_failed_try_is_dead_lettered(deps: Deps, receiver: Receiver) -> None:
    receiver.respond("/gone", 410)
    job = await enqueue_and_claim(deps, await new_account(deps), receiver.url("/gone"))
    last = dataclasses.replace(job, attempts=len(BACKOFF) + 1)
    assert await deliver(deps)(last) is True
    [letter] = await dead_letters(deps)
    assert {key: value for key, value in letter.items() if key != "id"} == {
        "event": "dlr",
        "message_public_id": MESSAGE_ID,
        "url": receiver.url("/gone"),
        "payload": job.payload["body"],
        "last_error": "HTTP 410",
        "attempts": len(BACKOFF) + 1,
        "replayed_at_us": None,
    }
    assert await queued(deps) == []


async def test_a_redirect_is_a_failure_and_is_not_followed(deps: Deps, receiver: Receiver) -> None:
    receiver.respond("/moved", 302)
    job = await enqueue_and_claim(deps, await new_account(deps), receiver.url("/moved"))
    with pytest.raises(RetryLater, match="HTTP 302"):
        await deliver(deps)(job)
    assert [request.path for request in receiver.requests() if request.path.startswith("/moved")] == ["/moved"]


async def test_an_unreachable_customer_is_retried(deps: Deps) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens here once the socket closes
    job = await enqueue_and_claim(deps, await new_account(deps), f"http://127.0.0.1:{closed_port}/x")
    with pytest.raises(RetryLater) as raised:
        await deliver(deps)(job)
    [attempt] = await attempts(deps)
    assert attempt["status_code"] is None
    assert attempt["error"] == str(raised.value)
    assert "Connect" in attempt["error"]
    assert await dead_letters(deps) == []


async def test_a_refused_target_is_dead_lettered_on_the_first_try(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    deps = await build(database_url, tmp_path, allow_private=False)
    try:
        job = await enqueue_and_claim(deps, await new_account(deps), receiver.url("/private"))
        assert await deliver(deps)(job) is True
        [letter] = await dead_letters(deps)
        assert letter["attempts"] == 1
        assert letter["last_error"] == "refused: 127.0.0.1 is a private, loopback or link-local address"
        assert receiver.requests("/private") == []
        assert await queued(deps) == []
    finally:
        await deps.close()


async def test_an_unusable_signing_secret_is_dead_lettered_not_retried(deps: Deps, receiver: Receiver) -> None:
    job = await enqueue_and_claim(deps, await new_account(deps, secret="whsec_x"), receiver.url("/badsecret"))
    assert await deliver(deps)(job) is True
    [letter] = await dead_letters(deps)
    assert letter["attempts"] == 1
    assert letter["last_error"].startswith("cannot sign: the account's webhook secret is not valid base64")
    assert receiver.requests("/badsecret") == []


async def test_replay_sends_the_same_body_with_a_new_id_once(deps: Deps, receiver: Receiver) -> None:
    receiver.respond("/replay", 500)
    job = await enqueue_and_claim(deps, await new_account(deps), receiver.url("/replay"))
    await deliver(deps)(dataclasses.replace(job, attempts=len(BACKOFF) + 1))
    [letter] = await dead_letters(deps)
    async with deps.db.transaction() as connection:
        assert await service.replay(connection, letter["id"], now=deps.clock()) is True
    async with deps.db.transaction() as connection:
        assert await service.replay(connection, letter["id"], now=deps.clock()) is False  # no longer pending
        assert await service.replay(connection, letter["id"] + 1000, now=deps.clock()) is False
    [again] = await queued(deps)
    assert again.kind == DELIVER_WEBHOOK
    assert {key: value for key, value in again.payload.items() if key != "webhook_id"} == {
        key: value for key, value in job.payload.items() if key != "webhook_id"
    }
    assert again.payload["webhook_id"] != job.payload["webhook_id"]
    [replayed] = await dead_letters(deps)
    assert replayed["replayed_at_us"] is not None
    assert await repository.dead_letters(deps.db, pending_only=True, limit=10) == []
    receiver.respond("/replay", 200)
    assert await deliver(deps)(again) is True
    assert receiver.requests("/replay")[-1].body == job.payload["body"].encode()


async def test_callbacks_that_succeed_together_record_every_attempt_and_end_every_job(
    deps: Deps, receiver: Receiver
) -> None:
    receiver.respond("/together", 200)
    account_id = await new_account(deps, secret=new_signing_secret())
    async with deps.db.transaction() as connection:
        for _ in range(3):
            await service.enqueue(
                connection,
                account_id=account_id,
                event="dlr",
                url=receiver.url("/together"),
                message_public_id=MESSAGE_ID,
                document=DOCUMENT,
                now=deps.clock(),
            )
    claimed = await jobs.claim(deps.db, "test", now=deps.clock(), lease_us=60_000_000, limit=10)
    handler = deliver(deps)
    assert await asyncio.gather(*(handler(job) for job in claimed)) == [True] * 3
    assert len(receiver.requests("/together")) == 3
    assert all("webhook-signature" in request.headers for request in receiver.requests("/together"))
    rows = await deps.db.fetch(
        sql("SELECT account_id, attempt, status_code, latency_ms, error, payload, dead_lettered FROM webhook_attempts")
    )
    body = json.dumps(DOCUMENT, separators=(",", ":"))
    assert [
        (
            row["account_id"],
            row["attempt"],
            row["status_code"],
            row["error"],
            row["payload"],
            bool(row["dead_lettered"]),
        )
        for row in rows
    ] == [(account_id, 1, 200, None, body, False)] * 3
    assert all(isinstance(row["latency_ms"], float) and row["latency_ms"] >= 0 for row in rows)
    assert await queued(deps) == []
