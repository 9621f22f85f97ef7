"""The `deliver_webhook` job: a (signed) POST, retried with backoff, then a dead letter.

A callback whose receiver already has all its connections busy (and its short queue full) is not
tried: it goes back to the queue, costing no try, until about when the receiver can take it (see
OriginSlots), so that one slow receiver holds at most 2N of the worker's job slots and other
receivers' callbacks keep moving."""

from __future__ import annotations

import binascii
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import structlog

from telroute.accounts import repository as accounts_repository
from telroute.bootstrap import Deps
from telroute.kit import jobs, metrics
from telroute.kit.coalesce import Coalescer, lookup
from telroute.kit.jobs import Job
from telroute.kit.origin_slots import OriginBusy
from telroute.kit.outbound import OutboundError, Posted, TargetRefused
from telroute.kit.worker import Handler, Postpone, RetryLater
from telroute.webhooks import repository
from telroute.webhooks.service import DELIVER_WEBHOOK
from telroute.webhooks.signing import signed_headers

log = structlog.get_logger("telroute.webhooks")
# A callback's end (its try recorded, its job finished) waits up to this long for others to share its
# transaction. Ends arrive one or a few a turn, as replies come in: written as they came, a worker draining
# a queue alone on SQLite committed 7,700 times for 30,000 messages, at 125 µs a COMMIT. Measured there
# (CPU a message / COMMITs): no wait 397-400 µs / 7,750-7,950; 1.5 ms 324 / 3,990; 3 ms 326-328 / 3,270-3,480;
# 5 ms 313 / 2,920; 10 ms 294 / 1,980, when the job slots held waiting start to count (5,800 callbacks a
# second times 10 ms = 58 of 200).
ENDS_GATHER = 0.005


class _Outcome:
    def __init__(self, status_code: int | None, error: str | None, latency_ms: float, permanent: bool) -> None:
        self.status_code = status_code
        self.error = error
        self.latency_ms = latency_ms
        self.permanent = permanent

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _Batches:
    """The reads and writes that the callbacks running at one time share (see `kit/coalesce.py`): their
    accounts' signing secrets, read when each callback goes out, and the ends of the callbacks that
    succeeded, each written before its job counts as done."""

    def __init__(self, deps: Deps) -> None:
        self._db = deps.db
        self.secrets = lookup(partial(accounts_repository.webhook_secrets, deps.db))
        self.ends: Coalescer[tuple[dict[str, Any], Job], None] = Coalescer(self._write_ends, gather=ENDS_GATHER)

    async def _write_ends(self, settled: Sequence[tuple[dict[str, Any], Job]]) -> list[None]:
        async with self._db.alone() as connection:
            await repository.record_last_attempts(connection, settled)
        return [None] * len(settled)


async def _headers(batches: _Batches, payload: dict[str, Any], body: bytes) -> dict[str, str]:
    # `webhook-id` goes out signed or not: the same id on every retry lets a receiver drop duplicates.
    headers = {"Content-Type": "application/json", "webhook-id": payload["webhook_id"]}
    secret = await batches.secrets.submit(payload["account_id"])
    if secret:
        headers.update(signed_headers(secret, payload["webhook_id"], int(time.time()), body))
    return headers


async def _post(deps: Deps, batches: _Batches, payload: dict[str, Any]) -> _Outcome:
    url = payload["url"]
    body = payload["body"].encode("utf-8")
    try:
        headers = await _headers(batches, payload, body)
    except binascii.Error as exc:  # a secret set by hand that is not base64: no try can succeed until fixed
        return _Outcome(None, f"cannot sign: the account's webhook secret is not valid base64 ({exc})", 0.0, True)
    try:
        posted = await deps.http.post(url, body, headers)
    except OriginBusy as exc:
        metrics.count_callback(payload["event"], "postponed")
        raise Postpone(f"receiver busy: {exc}", delay=exc.retry_after) from exc
    except TargetRefused as exc:
        return _Outcome(None, f"refused: {exc}", 0.0, permanent=True)
    except OutboundError as exc:
        return _Outcome(None, str(exc), _ms(exc.seconds or 0.0), permanent=False)
    return _Outcome(posted.status, _error(posted), _ms(posted.seconds), permanent=False)


def _error(posted: Posted) -> str | None:
    if 200 <= posted.status < 300:
        return None
    if 300 <= posted.status < 400 and posted.location is not None:
        return f"HTTP {posted.status} (redirects are not followed; Location: {posted.location[:300]})"
    return f"HTTP {posted.status}"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def handler(deps: Deps) -> Handler:
    backoff = deps.settings.webhook_backoff
    batches = _Batches(deps)

    async def deliver_webhook(job: Job) -> bool:
        payload = job.payload
        outcome = await _post(deps, batches, payload)
        last_try = outcome.permanent or job.attempts > len(backoff)
        attempt = {
            "account_id": payload["account_id"],
            "event": payload["event"],
            "url": payload["url"],
            "message_public_id": payload["message_public_id"],
            "attempt": job.attempts,
            "status_code": outcome.status_code,
            "latency_ms": outcome.latency_ms,
            "error": outcome.error,
            "payload": payload["body"],
            "dead_lettered": last_try and not outcome.ok,
            "now": deps.clock(),
        }
        if outcome.ok:
            await batches.ends.submit((attempt, job))
        else:
            async with deps.db.transaction() as connection:
                await repository.record_attempt(connection, attempt)
                if last_try:
                    await repository.dead_letter(connection, _dead_letter(payload, outcome, job, deps.clock()))
                    await jobs.finish(connection, job)
        metrics.count_callback(payload["event"], "success" if outcome.ok else "dead_letter" if last_try else "failure")
        structlog.contextvars.bind_contextvars(message_id=payload["message_public_id"])
        log.info(
            "callback",
            callback=payload["event"],
            url=payload["url"],
            attempt=job.attempts,
            status=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
        )
        if outcome.ok:
            return True
        if not last_try:
            raise RetryLater(outcome.error or "callback failed", delay=backoff[job.attempts - 1])
        log.warning(
            "callback dead-lettered", url=payload["url"], error=outcome.error, message_id=payload["message_public_id"]
        )
        return True

    return deliver_webhook


def _dead_letter(payload: dict[str, Any], outcome: _Outcome, job: Job, now: int) -> dict[str, Any]:
    return {
        "account_id": payload["account_id"],
        "event": payload["event"],
        "message_public_id": payload["message_public_id"],
        "url": payload["url"],
        "payload": payload["body"],
        "last_error": outcome.error,
        "attempts": job.attempts,
        "now": now,
    }


def handlers(deps: Deps) -> dict[str, Handler]:
    return {DELIVER_WEBHOOK: handler(deps)}
