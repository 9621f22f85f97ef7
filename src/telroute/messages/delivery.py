"""Delivery use cases: hand a queued message to its route, apply carrier receipts, take inbound
messages in. Each writes its receipts, status and callback jobs in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from telroute.accounts import repository as accounts_repository
from telroute.config import Prices
from telroute.kit import metrics
from telroute.kit.db import Connection, Row
from telroute.kit.jobs import Job
from telroute.messages import auto_replies, model, opt_outs, replies, repository, views
from telroute.messages.media import FetchedMedia
from telroute.messages.service import store_media
from telroute.numbers import model as numbers_model
from telroute.numbers import repository as numbers_repository
from telroute.webhooks import service as webhooks

ON_NET = "on-net"

log = structlog.get_logger("telroute.messages")


@dataclass(frozen=True, slots=True)
class Context:
    now: int
    base: str
    prices: Prices
    replies: auto_replies.AutoReplies | None = None  # the carriers' HELP/STOP/START replies; None: off


async def _dlr_url(connection: Connection, message: Row) -> str | None:
    """Precedence: the message's own `dlr_callback`, then its number's, then its account's."""
    if message["dlr_callback"]:
        return str(message["dlr_callback"])
    column = "mms_dlr_callback" if message["is_mms"] else "sms_dlr_callback"
    if f"number_{column}" in message:  # read with the message (`repository.by_ids`, `locked_by_carrier_id`)
        found: Row | None = message
    else:
        found = await numbers_repository.dlr_callbacks(connection, message["from_number"], message["account_id"])
    url = None if found is None else found[f"number_{column}"] or found[column]
    return None if url is None else str(url)


async def _inbound_url(connection: Connection, owner: Row, is_mms: bool) -> tuple[str | None, views.View]:
    """The number's callback (v2.1), else the account's, in the version its URL was set through."""
    column = "mms_callback" if is_mms else "sms_callback"
    if owner[column]:
        return str(owner[column]), views.V21
    found = await accounts_repository.callbacks(connection, owner["account_id"])
    url = found.get(column)
    return (None if url is None else str(url)), views.of_version(found.get(f"{column}_version"))


def _receipt(level: int, outcome: model.ReceiptOutcome | None, context: Context) -> dict[str, Any]:
    return {
        "level": level,
        "status": model.SUBMITTED if outcome is None else outcome.status,
        "status_code": None if outcome is None else outcome.code,
        "description": "Message has been sent" if outcome is None else outcome.description,
        "created_at_us": context.now,
    }


async def _announce(connection: Connection, message: Row, context: Context, receipt: dict[str, Any]) -> None:
    """A receipt written: count it and enqueue its DLR callback."""
    metrics.count_receipt(receipt["level"], receipt["status"])
    callback = await _dlr_callback(connection, message, context, receipt)
    if callback is not None:
        await webhooks.enqueue_job(connection, callback, now=context.now)


async def _dlr_callback(
    connection: Connection, message: Row, context: Context, receipt: dict[str, Any]
) -> dict[str, Any] | None:
    """The payload of the receipt's DLR callback job; None when no DLR callback URL applies."""
    url = await _dlr_url(connection, message)
    if url is None:
        return None
    return webhooks.callback_job(
        account_id=message["account_id"],
        event="dlr",
        url=url,
        message_public_id=message["public_id"],
        document=views.receipt_callback(message, receipt, context.base),
    )


async def mark_submitted(
    connection: Connection,
    message: Row,
    carrier: str,
    carrier_ids: tuple[str, ...],
    context: Context,
    *,
    spellings: Sequence[repository.Spelling] | None = None,
) -> bool:
    """Level 1: the message left telroute for its carrier. False if it was not queued any more.
    `spellings` (one per id) let receipts that spell an id differently find it."""
    receipt = _receipt(1, None, context)
    moved = await repository.mark_submitted_with_receipt(
        connection, message["id"], receipt, carrier=carrier, ids=carrier_ids, spellings=spellings
    )
    if moved:
        await _announce(connection, message, context, receipt)
    return moved


@dataclass(frozen=True, slots=True)
class Submitted:
    """A delivery job's message that its carrier took (`mark_submitted_ending`). `message` must carry its DLR
    settings, as `repository.by_ids` reads them, or finding its callback's URL would be a statement more;
    `spellings` (one per id) let receipts that spell an id differently find it; `then`: the jobs to enqueue
    in any case (`jobs.job_params`)."""

    job: Job
    message: Row
    carrier: str
    carrier_ids: tuple[str, ...]
    spellings: Sequence[repository.Spelling] | None
    then: Sequence[dict[str, Any]]


async def mark_submitted_ending(connection: Connection, submitted: Submitted, context: Context) -> bool:
    """`mark_submitted`, and the end of the delivery job with the jobs `then`, in the same transaction: on
    PostgreSQL one statement, for `Database.alone()` (its DLR callback is rendered before it, in case it
    moves)."""
    [moved] = await mark_all_submitted_ending(connection, [submitted], context)
    return moved


async def mark_all_submitted_ending(
    connection: Connection, submitted: Sequence[Submitted], context: Context
) -> list[bool]:
    """`mark_submitted_ending` of several messages (none twice); on PostgreSQL in one statement (for
    `Database.alone()`), on SQLite a few for them all. Whether each moved."""
    ends = [await _submit_end(connection, one, context) for one in submitted]
    if len(ends) > 1:
        moved = await repository.mark_all_submitted_ending(connection, ends)
    else:
        moved = [await repository.mark_submitted_ending(connection, end) for end in ends]
    for end, one_moved in zip(ends, moved, strict=True):
        if one_moved:
            metrics.count_receipt(end.receipt["level"], end.receipt["status"])
    return moved


async def _submit_end(connection: Connection, submitted: Submitted, context: Context) -> repository.SubmitEnd:
    receipt = _receipt(1, None, context)
    callback = await _dlr_callback(connection, submitted.message, context, receipt)
    when_moved = [] if callback is None else [webhooks.job_params(callback, now=context.now)]
    return repository.SubmitEnd(
        submitted.job,
        submitted.message["id"],
        receipt,
        submitted.carrier,
        submitted.carrier_ids,
        submitted.spellings,
        when_moved,
        submitted.then,
    )


async def finalize(
    connection: Connection,
    message: Row,
    outcome: model.ReceiptOutcome,
    context: Context,
    error: str | None = None,
    *,
    part: repository.PartState | None = None,
) -> bool:
    """Level 2, at most once per status: a duplicate or late receipt changes nothing (but the state of the
    `part` it reports, when given, is recorded)."""
    log.info("message status", message_id=message["public_id"], status=outcome.status, code=outcome.code)
    receipt = _receipt(2, outcome, context)
    if not await repository.advance_status_with_receipt(connection, message["id"], receipt, error=error, part=part):
        return False
    await _announce(connection, message, context, receipt)
    return True


async def apply_carrier_state(
    connection: Connection,
    part: Row,
    message: Row | None,
    carrier: str,
    carrier_id: str,
    state: str,
    context: Context,
    *,
    code: int | None = None,
    description: str | None = None,
) -> None:
    """A carrier's report on one part. A multipart message is delivered when every part is. `code` and
    `description`: a forced receipt's (sandbox faults), replacing those of the state. `message`: the part's
    message, read holding its row lock (`repository.locked`)."""
    if message is None or message["status"] in model.FINAL_STATUSES:
        return
    reported = repository.PartState(carrier, carrier_id, state.upper())
    outcome = model.reported_outcome(state, code, description)
    if outcome.status == model.DELIVERED and message["parts_pending"] > 1:  # delivered when every part is
        await repository.set_part_state(connection, carrier, carrier_id, reported.state)
        if all(part == "DELIVRD" for part in await repository.part_states(connection, message["id"])):
            await finalize(connection, message, outcome, context)
        return
    error = model.report_error(outcome, state)
    await finalize(connection, message, outcome, context, error=error, part=reported)


async def apply_reports_together(
    connection: Connection, reports: Sequence[tuple[Job, Row | None]], context: Context
) -> list[bool]:
    """In the transaction that read (on PostgreSQL locked) the rows, in one statement on PostgreSQL: the carrier
    receipt jobs of several messages, each with the part its carrier id names and its message (`repository.
    locked_by_carrier_ids`), applied as `apply_carrier_state` would and ended. True for each one applied and
    ended here; False for those to take alone: no part found by that id (a spelling to look for, or a submit
    not recorded yet), a message already final, a part of a multipart message, a second report on a message."""
    taken: dict[int, repository.ReportEnd] = {}  # by place in `reports`
    messages: set[int] = set()
    for place, (job, row) in enumerate(reports):
        if row is None or row["id"] in messages:
            continue
        messages.add(row["id"])  # a later report on it goes alone, after this one
        end = await _report_end(connection, job, row, context)
        if end is not None:
            taken[place] = end
    moved = await repository.apply_reported_all(connection, list(taken.values())) if taken else []
    for end, one_moved in zip(taken.values(), moved, strict=True):
        if one_moved:
            metrics.count_receipt(end.receipt["level"], end.receipt["status"])
    return [place in taken for place in range(len(reports))]


async def _report_end(connection: Connection, job: Job, row: Row, context: Context) -> repository.ReportEnd | None:
    """What `apply_carrier_state` would write for the carrier receipt job `job` on the part and message of
    `row`, when it is one write and a level-2 receipt; None otherwise."""
    payload = job.payload
    outcome = model.reported_outcome(payload["state"], payload.get("status_code"), payload.get("description"))
    if row["status"] in model.FINAL_STATUSES or (outcome.status == model.DELIVERED and row["parts_pending"] > 1):
        return None
    log.info("message status", message_id=row["public_id"], status=outcome.status, code=outcome.code)
    receipt = _receipt(2, outcome, context)
    callback = await _dlr_callback(connection, row, context, receipt)
    return repository.ReportEnd(
        job,
        row["id"],
        repository.PartState(payload["carrier"], row["carrier_message_id"], str(payload["state"]).upper()),
        model.report_error(outcome, payload["state"]),
        receipt,
        [] if callback is None else [webhooks.job_params(callback, now=context.now)],
    )


async def deliver_on_net(connection: Connection, message: Row, owner: Row, context: Context) -> None:
    """The destination is a number on this server: the owner gets an inbound MDR and its callback."""
    if not await mark_submitted(connection, message, ON_NET, (message["public_id"],), context):
        return
    media = await repository.media_with_content(connection, message["id"]) if message["is_mms"] else []
    fetched = [FetchedMedia(row["url"], row["file_name"], row["mime_type"], row["content"]) for row in media]
    await create_inbound(
        connection,
        owner,
        from_number=message["from_number"],
        to_number=message["to_number"],
        body=message["body"],
        is_mms=bool(message["is_mms"]),
        media=fetched,
        context=context,
    )
    await finalize(connection, message, model.DELIVERED_OUTCOME, context)


async def create_inbound(
    connection: Connection,
    owner: Row,
    *,
    from_number: str,
    to_number: str,
    body: str | None,
    is_mms: bool,
    media: list[FetchedMedia],
    context: Context,
    reply_to_id: int | None = None,
) -> str:
    """An inbound MDR for the owner of `to_number`, its media, and the owner's inbound callback;
    `reply_to_id`: the outbound message it answers (sandbox replies)."""
    pricing = model.price_inbound(body, is_mms, context.prices)
    public_id = model.new_message_id()
    url, view = await _inbound_url(connection, owner, is_mms)
    values: dict[str, Any] = {
        "public_id": public_id,
        "account_id": owner["account_id"],
        "direction": "inbound",
        "from_number": from_number,
        "to_number": to_number,
        "body": body,
        "is_mms": is_mms,
        "status": "" if is_mms else model.DELIVERED,
        "message_encoding": pricing.encoding,
        "message_type": numbers_model.message_type_of(to_number),
        "segments": pricing.segments,
        "amount_nd": pricing.amount_nd,
        "dlr_callback": None,
        "callback_url": url,
        "now": context.now,
    }
    message_id = await repository.insert(connection, values)
    await store_media(connection, owner["account_id"], message_id, media, now=context.now)
    change = await opt_outs.note_inbound(connection, ours=to_number, subscriber=from_number, body=body, now=context.now)
    if reply_to_id is not None:
        await replies.link(connection, message_id, reply_to_id)
    if url is not None:
        message = await repository.by_id(connection, message_id)
        assert message is not None
        stored_media = await repository.media_of(connection, message_id)
        await webhooks.enqueue(
            connection,
            account_id=owner["account_id"],
            event="inbound_mms" if is_mms else "inbound_sms",
            url=url,
            message_public_id=public_id,
            document=views.inbound_callback(message, stored_media, context.base, url, view),
            now=context.now,
        )
    if context.replies is not None:
        await auto_replies.answer(
            connection,
            context.replies,
            account_id=owner["account_id"],
            ours=to_number,
            subscriber=from_number,
            body=body,
            change=change,
            prices=context.prices,
            now=context.now,
        )
    return public_id
