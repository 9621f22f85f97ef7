"""Messaging's background jobs: `deliver_message` and `carrier_receipt`; and the durable
CarrierEvents through which carriers report receipts and inbound messages.

The carriers come in as the port's `Carriers` (`runtime.py` passes the registry), so messaging
imports no carrier code."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import structlog

from telroute.bootstrap import Deps
from telroute.errors import NotFound
from telroute.kit import jobs, metrics
from telroute.kit.coalesce import Coalescer, lookup
from telroute.kit.db import Connection, Row, batch_unit, is_unavailable
from telroute.kit.jobs import Job
from telroute.kit.worker import Handler, RetryLater
from telroute.messages import auto_replies, delivery, model, repository
from telroute.messages.carrier_port import (
    CarrierInbound,
    CarrierReceipt,
    Carriers,
    Faults,
    OutboundMessage,
    PermanentCarrierError,
    SubmitResult,
    TransientCarrierError,
    id_keys,
)
from telroute.messages.delivery import Context
from telroute.messages.media import fetch_all
from telroute.messages.routing import OnNet, route
from telroute.messages.service import DELIVER_MESSAGE
from telroute.numbers import model as numbers_model
from telroute.numbers import repository as numbers_repository

CARRIER_RECEIPT = "carrier_receipt"
_UNKNOWN_ID_TRIES = 16  # about two minutes of looking (see _overtaken_receipt_delay)
_REPLACE_JOB_AFTER = 20  # below the worker's max_attempts (25), after which a job is recorded as failed
log = structlog.get_logger("telroute.messages")


def context(deps: Deps) -> Context:
    settings = deps.settings
    return Context(now=deps.clock(), base=settings.link_base, prices=settings.prices, replies=auto_replies.of(settings))


def _retry_delay(attempts: int) -> float:
    return float(min(60, 2 ** min(attempts, 6)) / 4)


def _overtaken_receipt_delay(attempts: int) -> float:
    """A receipt overtakes the record of its submit when the SMSC sends the DLR within milliseconds of its
    answer, before our transaction has committed: the record is usually there a moment later, so look
    again at once (50 ms), then half as often each time, at most every 15 s."""
    return float(min(15.0, 0.05 * 2 ** (attempts - 1)))


async def _outbound(deps: Deps, message: Row, faults: Faults | None) -> OutboundMessage:
    media = await repository.media_of(deps.db, message["id"]) if message["is_mms"] else []
    forced = None if faults is None else await faults.forced_outcome(message["account_id"], message["to_number"])
    return OutboundMessage(
        public_id=message["public_id"],
        from_number=message["from_number"],
        to_number=message["to_number"],
        body=message["body"],
        is_mms=bool(message["is_mms"]),
        media_urls=tuple(row["url"] for row in media),
        forced=forced,
    )


class _DeliveryReads:
    """The reads that the deliveries claimed together share (see `kit/coalesce.py`): their messages, and the
    owners of the numbers they go to (an owner makes the message on-net)."""

    def __init__(self, deps: Deps) -> None:
        self.messages = lookup(partial(repository.by_ids, deps.db))
        self.owners = lookup(partial(numbers_repository.owners_of, deps.db))


def deliver_handler(deps: Deps, carriers: Carriers, faults: Faults | None = None) -> Handler:
    validity_us = int(deps.settings.message_validity_seconds * 1_000_000)
    reads = _DeliveryReads(deps)
    submits = Coalescer(partial(end_submits, deps))  # the submits that end together are written together

    async def deliver_message(job: Job) -> bool:
        message = await reads.messages.submit(job.payload["message_id"])
        if message is None or message["status"] != model.QUEUED:
            return False
        structlog.contextvars.bind_contextvars(message_id=message["public_id"])
        target = route(await reads.owners.submit(message["to_number"]), message["to_number"], carriers)
        if isinstance(target, OnNet):
            async with deps.db.transaction() as connection, jobs.finishing(connection, job):
                await delivery.deliver_on_net(connection, message, target.owner, context(deps))
            metrics.count_delivery(delivery.ON_NET, "delivered")
            return True
        if deps.clock() - message["created_at_us"] > validity_us:
            async with deps.db.transaction() as connection, jobs.finishing(connection, job):
                await delivery.finalize(connection, message, model.EXPIRED_IN_QUEUE, context(deps))
            metrics.count_delivery(target.carrier, "expired")
            return True
        carrier = carriers.local(target.carrier)
        if carrier is None:
            if carriers.held_elsewhere(target.carrier):  # the worker that holds the link takes it soon
                return await _wait(deps, job, f"carrier {target.carrier} is held by another worker", 0.5)
            reason = f"carrier {target.carrier} is not running in any worker"
            return await _wait(deps, job, reason, _retry_delay(_tries(job)))
        try:
            result = await carrier.submit(await _outbound(deps, message, faults))
        except TransientCarrierError as exc:
            metrics.count_delivery(target.carrier, "deferred")
            return await _wait(deps, job, f"{target.carrier}: {exc}", _retry_delay(_tries(job)))
        except PermanentCarrierError as exc:
            outcome = model.submit_outcome(exc.status, exc.detail)
            async with deps.db.transaction() as connection, jobs.finishing(connection, job):
                await delivery.finalize(connection, message, outcome, context(deps), error=exc.detail)
            metrics.count_delivery(target.carrier, outcome.status)
            return True
        now = deps.clock()
        then = [receipt_job(receipt, now=now, delay=delay) for receipt, delay in result.scheduled]
        ids, spellings = result.carrier_message_ids, _spellings(result)
        await _end_submit(deps, submits, delivery.Submitted(job, message, target.carrier, ids, spellings, then))
        log.info("message submitted", carrier=target.carrier, parts=len(result.carrier_message_ids))
        metrics.count_delivery(target.carrier, "submitted")
        return True

    return deliver_message


async def _end_submit(
    deps: Deps, submits: Coalescer[delivery.Submitted, bool | BaseException], submitted: delivery.Submitted
) -> None:
    ended = await submits.submit(submitted)
    if isinstance(ended, BaseException):
        raise ended


async def end_submits(deps: Deps, submitted: Sequence[delivery.Submitted]) -> list[bool | BaseException]:
    """The ends of the deliveries whose submits came back together, in one statement on PostgreSQL and one
    transaction on SQLite: for each, whether it moved its message, or what failed it. A message twice (a job
    run again after its lease lapsed) is ended on its own after the others. When the batch fails for a reason
    other than the database being away, each is ended alone, so that one message cannot fail the others."""
    firsts: dict[int, int] = {}  # message id: the place of its first submit
    for place, one in enumerate(submitted):
        firsts.setdefault(one.message["id"], place)
    together = list(firsts.values())
    outcomes: list[bool | BaseException | None] = [None] * len(submitted)
    try:
        async with batch_unit(deps.db) as connection:
            ends = [submitted[place] for place in together]
            moved = await delivery.mark_all_submitted_ending(connection, ends, context(deps))
        for place, one_moved in zip(together, moved, strict=True):
            outcomes[place] = one_moved
    except Exception as exc:
        if is_unavailable(exc):
            raise
    for place, outcome in enumerate(outcomes):
        if outcome is None:  # a message's second submit, or every one after the statement failed
            outcomes[place] = await _end_alone(deps, submitted[place])
    return [outcome for outcome in outcomes if outcome is not None]


async def _end_alone(deps: Deps, submitted: delivery.Submitted) -> bool | BaseException:
    try:
        async with batch_unit(deps.db) as connection:
            return await delivery.mark_submitted_ending(connection, submitted, context(deps))
    except Exception as exc:
        return exc


def _tries(job: Job) -> int:
    return job.attempts + int(job.payload.get("earlier_attempts", 0))


async def _wait(deps: Deps, job: Job, reason: str, delay: float) -> bool:
    """Deliver later: the link is down, throttled, or run by another worker. A message waits for its
    carrier as long as it is valid (then it expires with a receipt), not only as many times as the worker
    retries a job: near that limit the job is replaced by a fresh one that remembers the tries."""
    if job.attempts < _REPLACE_JOB_AFTER:
        raise RetryLater(reason, delay=delay)
    payload = {**job.payload, "earlier_attempts": _tries(job)}
    async with deps.db.transaction() as connection:
        await jobs.enqueue(connection, DELIVER_MESSAGE, payload, now=deps.clock(), delay_us=int(delay * 1_000_000))
        await jobs.finish(connection, job)
    return True


def _spellings(result: SubmitResult) -> list[repository.Spelling] | None:
    """How receipts of a real carrier may spell its ids (the simulator's receipts repeat them exactly)."""
    if result.exact_ids:
        return None
    return [spelling_of(carrier_id) for carrier_id in result.carrier_message_ids]


def spelling_of(carrier_id: str) -> repository.Spelling:
    """The spellings under which a receipt may name `carrier_id` (see `id_keys`)."""
    keys = id_keys(carrier_id)
    return keys[0], keys[1] if len(keys) > 1 else None


def receipt_handler(deps: Deps) -> Handler:
    together = Coalescer(partial(apply_receipts, deps))  # the receipts claimed together, applied together

    async def carrier_receipt(job: Job) -> bool:
        if await together.submit(job):
            return True
        payload = job.payload
        carrier, carrier_id = payload["carrier"], payload["carrier_message_id"]
        async with deps.db.transaction() as connection, jobs.finishing(connection, job):
            part, message = await _part_of_receipt(connection, carrier, carrier_id, payload["state"])
            if part is None:
                # The receipt can overtake our record of the submit; wait for it, but not forever.
                if job.attempts < _UNKNOWN_ID_TRIES:
                    delay = _overtaken_receipt_delay(job.attempts)
                    raise RetryLater(f"no message with {carrier} id {carrier_id} yet", delay=delay)
                log.warning("receipt for an unknown message dropped", carrier=carrier, carrier_message_id=carrier_id)
                return True
            await delivery.apply_carrier_state(
                connection,
                part,
                message,
                carrier,
                part["carrier_message_id"],
                payload["state"],
                context(deps),
                code=payload.get("status_code"),
                description=payload.get("description"),
            )
        return True

    return carrier_receipt


async def apply_receipts(deps: Deps, receipts: Sequence[Job]) -> list[bool]:
    """Carrier receipt jobs claimed together: their parts and messages read (and on PostgreSQL locked) in one
    query, and those that are one write each applied and ended together (`delivery.apply_reports_together`).
    True for each one done; False for each to take alone, as every one is when the transaction fails for a
    reason other than the database being away (one receipt cannot fail the others)."""
    named = [(job.payload["carrier"], job.payload["carrier_message_id"]) for job in receipts]
    try:
        async with deps.db.transaction() as connection:
            found = await repository.locked_by_carrier_ids(connection, named)
            reports = [(job, found.get(key)) for job, key in zip(receipts, named, strict=True)]
            return await delivery.apply_reports_together(connection, reports, context(deps))
    except Exception as exc:
        if is_unavailable(exc):
            raise
        log.warning("receipts applied one by one after a failure", error=str(exc))
        return [False] * len(receipts)


async def _part_of_receipt(
    connection: Connection, carrier: str, carrier_id: str, state: str
) -> tuple[Row | None, Row | None]:
    """The part a receipt names and its message, locked (None, None when no part has that id yet)."""
    found = await repository.locked_by_carrier_id(connection, carrier, carrier_id)
    if found is not None:
        return found, found
    # Spelled unlike the submit response: hex v decimal, leading zeros.
    part = await repository.by_carrier_spelling(connection, carrier, spelling_of(carrier_id), state)
    if part is None:
        return None, None
    return part, await repository.locked(connection, part["message_id"])


async def enqueue_receipt(connection: Connection, receipt: CarrierReceipt, *, now: int) -> None:
    await jobs.enqueue(connection, CARRIER_RECEIPT, _receipt_payload(receipt), now=now)


def receipt_job(receipt: CarrierReceipt, *, now: int, delay: float = 0.0) -> dict[str, Any]:
    """The `carrier_receipt` job of a receipt, to enqueue (`jobs.job_params`)."""
    return jobs.job_params(CARRIER_RECEIPT, _receipt_payload(receipt), now=now, delay_us=int(delay * 1_000_000))


def _receipt_payload(receipt: CarrierReceipt) -> dict[str, Any]:
    payload = {
        "carrier": receipt.carrier,
        "carrier_message_id": receipt.carrier_message_id,
        "state": receipt.state,
        "error_code": receipt.error_code,
    }
    if receipt.status_code is not None or receipt.description is not None:
        payload |= {"status_code": receipt.status_code, "description": receipt.description}
    return payload


class DurableCarrierEvents:
    """Receipts become jobs (committed before the carrier acknowledges them); inbound messages
    are written at once."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def receipt(self, receipt: CarrierReceipt) -> None:
        async with self._deps.db.alone() as connection:
            await enqueue_receipt(connection, receipt, now=self._deps.clock())
        self._deps.wakeup.notify()

    async def inbound(self, message: CarrierInbound) -> None:
        try:
            await receive_inbound(self._deps, message)
        except NotFound as exc:
            log.warning("inbound message for a number nobody owns dropped", to=message.to_number, error=exc.detail)


async def receive_inbound(deps: Deps, message: CarrierInbound, *, reply_to_id: int | None = None) -> str:
    """An inbound SMS/MMS from outside: fetch its media, then write the MDR and its callback job.
    `reply_to_id`: the outbound message a sandbox reply answers."""
    try:
        to_number = numbers_model.normalize_number(message.to_number)
        from_number = numbers_model.normalize_number(message.from_number)
    except ValueError as exc:
        raise NotFound(f"{exc}") from exc
    owner = await numbers_repository.owner_of(deps.db, to_number)
    if owner is None:
        raise NotFound(f"number {to_number} is not on this server")
    media = []
    if message.media_urls:
        media = await fetch_all(
            deps.http,
            list(message.media_urls),
            limit=deps.settings.media_max_bytes,
            timeout=deps.settings.media_timeout,
        )
    async with deps.db.transaction() as connection:
        public_id = await delivery.create_inbound(
            connection,
            owner,
            from_number=from_number,
            to_number=to_number,
            body=message.body or None,
            is_mms=bool(media),
            media=media,
            context=context(deps),
            reply_to_id=reply_to_id,
        )
    deps.wakeup.notify()
    return public_id


def handlers(deps: Deps, carriers: Carriers, faults: Faults | None = None) -> dict[str, Handler]:
    """`faults`: the sandbox's faults on demand (None in production)."""
    return {DELIVER_MESSAGE: deliver_handler(deps, carriers, faults), CARRIER_RECEIPT: receipt_handler(deps)}
