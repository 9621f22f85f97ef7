"""Messaging use cases on the request path: validate and accept a send, read MDRs and media.

Never commits: api.py owns the transaction. The MDR and its `deliver_message` job are written in
the same transaction (the outbox), so a 202 means the message will be delivered.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telroute.accounts.model import Account, rate_bucket
from telroute.config import Prices
from telroute.errors import BadRequest, Forbidden, NotFound, Unprocessable
from telroute.kit import ratelimit
from telroute.kit.db import Connection, Row
from telroute.kit.inputs import typed
from telroute.kit.outbound import validate_url
from telroute.messages import model, opt_outs, repository
from telroute.messages.carrier_port import CarrierInbound
from telroute.messages.inputs import InboundAttributes, InboundFields, SendAttributes, SendFields
from telroute.messages.media import FetchedMedia
from telroute.numbers import model as numbers_model

DELIVER_MESSAGE = "deliver_message"


@dataclass(frozen=True, slots=True)
class SendRequest:
    to: str
    from_: str
    body: str | None
    is_mms: bool
    media_urls: tuple[str, ...]
    dlr_callback: str | None


def _required_number(raw: Any, name: str, pointer: str) -> str:
    if raw is None or raw == "":
        raise BadRequest(f"{name} is required", pointer=f"{pointer}/{name}")
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise BadRequest(f"{name} must be a string phone number", pointer=f"{pointer}/{name}")
    return str(raw)


def media_urls(raw: Any, pointer: str) -> tuple[str, ...]:
    """A list of at most MAX_MEDIA_URLS http(s) URLs (400 when malformed, 422 when too many)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise BadRequest("media_urls must be a list of URLs", pointer=f"{pointer}/media_urls")
    if len(raw) > model.MAX_MEDIA_URLS:
        raise Unprocessable(f"at most {model.MAX_MEDIA_URLS} media_urls are allowed", pointer=f"{pointer}/media_urls")
    return tuple(validate_url(url, name="media_urls[]", pointer=f"{pointer}/media_urls") for url in raw)


def _body(raw: Any, pointer: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise BadRequest("body must be a string", pointer=f"{pointer}/body")
    if len(raw) > model.MAX_BODY_CHARACTERS:
        raise Unprocessable(f"body is longer than {model.MAX_BODY_CHARACTERS} characters", pointer=f"{pointer}/body")
    return raw


def validate_send(attributes: Mapping[str, Any], pointer: str) -> SendRequest:
    """A send body's attributes as a SendRequest; else the first bad field in the order of `_send_rules`."""
    fields = typed(attributes, SendAttributes, pointer, rules=lambda raw: _send_rules(raw, pointer))
    return _send_rules(fields, pointer)


def _send_rules(attributes: SendFields, pointer: str) -> SendRequest:
    to_raw = _required_number(attributes.to, "to", pointer)
    from_raw = _required_number(attributes.from_, "from", pointer)
    is_mms = model.parse_is_mms(False if attributes.is_mms is None else attributes.is_mms)
    if is_mms is None:
        raise BadRequest('is_mms must be a boolean or "true"/"false"', pointer=f"{pointer}/is_mms")
    urls = media_urls(attributes.media_urls, pointer)
    body = _body(attributes.body, pointer)
    is_mms = is_mms or bool(urls)
    if not is_mms and not body:
        raise BadRequest("body is required for an SMS", pointer=f"{pointer}/body")
    if is_mms and not body and not urls:
        raise BadRequest("an MMS needs a body or media_urls", pointer=f"{pointer}/body")
    try:
        to = numbers_model.normalize_number(to_raw)
    except ValueError as exc:
        raise Unprocessable(f"to is not a valid NANP number: {exc}", pointer=f"{pointer}/to") from exc
    callback = attributes.dlr_callback
    dlr = (
        None
        if callback in (None, "")
        else validate_url(callback, name="dlr_callback", pointer=f"{pointer}/dlr_callback")
    )
    return SendRequest(to, from_raw, body, is_mms, urls, dlr)


def validate_inbound(attributes: Mapping[str, Any], pointer: str) -> CarrierInbound:
    """The sandbox's injected inbound message: `from`, `to`, `body` and/or `media_urls`."""
    fields = typed(attributes, InboundAttributes, pointer, rules=lambda raw: _inbound_rules(raw, pointer))
    return _inbound_rules(fields, pointer)


def _inbound_rules(attributes: InboundFields, pointer: str) -> CarrierInbound:
    sender, receiver = _inbound_number(attributes.from_, "from", pointer), _inbound_number(attributes.to, "to", pointer)
    body = _body(attributes.body, pointer)
    urls = media_urls(attributes.media_urls, pointer)
    if not body and not urls:
        raise BadRequest("an inbound message needs a body or media_urls", pointer=f"{pointer}/body")
    return CarrierInbound("sandbox", sender, receiver, body or "", urls)


def _inbound_number(value: object, name: str, pointer: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is required and must be a string", pointer=f"{pointer}/{name}")
    return value


@dataclass(frozen=True, slots=True)
class Sender:
    number: str  # normalized
    opted_out: bool  # the receiver opted out of messages from it (`opt_outs.py`), when the send was checked


async def check_sender(connection: Connection, account: Account, from_raw: str, to: str) -> Sender:
    """The normalized `from`, which must be a number this account owns (else 403), and whether `to` opted out
    of it (one read for both)."""
    value = normalized_sender(from_raw)
    found = await repository.sender(connection, value, to)
    if found is None or found["account_id"] != account.id:
        raise _not_ours(from_raw)
    return Sender(value, bool(found["opted_out"]))


def _not_ours(from_raw: str) -> Forbidden:
    return Forbidden(f"from number {from_raw} is not a number on this account", pointer="/from")


def _rate(account: Account, is_mms: bool) -> tuple[str, int]:
    return ("mms", account.mms_per_second) if is_mms else ("sms", account.sms_per_second)


async def take_rate(connection: Connection, account: Account, is_mms: bool, *, now: int | Callable[[], int]) -> None:
    kind, per_second = _rate(account, is_mms)
    bucket = rate_bucket(kind, account.id)
    await ratelimit.take(connection, bucket, per_second=per_second, now=now, what=kind.upper())


def new_media_id() -> str:
    return str(secrets.randbelow(10**18 - 10**17) + 10**17)


async def store_media(
    connection: Connection, account_id: int, message_id: int, media: list[FetchedMedia], *, now: int
) -> None:
    for item in media:
        await repository.insert_media(
            connection,
            {
                "public_id": f"{new_media_id()}-{item.file_name}",
                "account_id": account_id,
                "message_id": message_id,
                "url": item.url,
                "file_name": item.file_name,
                "mime_type": item.mime_type,
                "file_size": len(item.content),
                "content": item.content,
                "now": now,
            },
        )


async def accept(
    connection: Connection,
    account: Account,
    request: SendRequest,
    sender: str,
    media: list[FetchedMedia],
    public_id: str,
    *,
    prices: Prices,
    now: int,
    api_version: str = "2.1",
) -> None:
    """Insert the outbound MDR (queued) as `public_id`, its media and its delivery job."""
    values = queued_message(account, request, sender, public_id, prices=prices, api_version=api_version)
    message_id = await repository.insert_queued(connection, {**values, "now": now}, DELIVER_MESSAGE)
    await store_media(connection, account.id, message_id, media, now=now)


def normalized_sender(from_raw: str) -> str:
    """A send's `from`, normalized; 403 when it is no number, as when it is not this account's."""
    try:
        return numbers_model.normalize_number(from_raw)
    except ValueError:
        raise _not_ours(from_raw) from None


@dataclass(frozen=True, slots=True)
class AtOnce:
    """What the send in one statement returned for one send (`send_batches`): the sender's `owner`,
    `opted_out` and the new `message_id` (None when refused); the normalized sender; the rate take's
    parameters."""

    found: Row
    sender: str
    taken: dict[str, Any]


def rate_take(account: Account, is_mms: bool, *, now: int | Callable[[], int]) -> dict[str, Any]:
    """The parameters of a take from the account's SMS or MMS bucket (`ratelimit.take_params`)."""
    kind, per_second = _rate(account, is_mms)
    return ratelimit.take_params(rate_bucket(kind, account.id), per_second=per_second, now=now)


async def refuse_unless_accepted(
    connection: Connection, account: Account, request: SendRequest, outcome: AtOnce, *, pointer: str
) -> None:
    """The 403, opted-out 400 or 429 of a send that `accept_at_once` did not accept, in the order and with the
    errors of the send in steps."""
    found = outcome.found
    if found["owner"] != account.id:
        raise _not_ours(request.from_)
    await opt_outs.refuse_opted_out(
        connection, ours=outcome.sender, subscriber=request.to, known=bool(found["opted_out"]), pointer=pointer
    )
    if found["message_id"] is None:
        kind, per_second = _rate(account, request.is_mms)
        await ratelimit.refuse(connection, outcome.taken, per_second=per_second, what=kind.upper())


def queued_message(
    account: Account, request: SendRequest, sender: str, public_id: str, *, prices: Prices, api_version: str
) -> dict[str, Any]:
    """The row of a queued outbound MDR but its time (`repository.insert_queued` with `now`)."""
    pricing = model.price_outbound(request.body, request.is_mms, prices)
    return {
        "public_id": public_id,
        "account_id": account.id,
        "direction": "outbound",
        "from_number": sender,
        "to_number": request.to,
        "body": request.body,
        "is_mms": request.is_mms,
        "status": model.QUEUED,
        "message_encoding": pricing.encoding,
        "message_type": numbers_model.message_type_of(sender),
        "segments": pricing.segments,
        "amount_nd": pricing.amount_nd,
        "dlr_callback": request.dlr_callback,
        "callback_url": None,
        "api_version": api_version,
    }


async def get(connection: Connection, account: Account, public_id: str) -> tuple[Row, list[Row], list[Row]]:
    """An MDR of this account with its receipts (newest first) and media; 404 otherwise."""
    message = None
    if model.is_message_id(public_id):
        message = await repository.by_public_id(connection, public_id, account.id)
    if message is None:
        raise NotFound(f"message {public_id} was not found on this account")
    receipts = (await repository.receipts_of(connection, [message["id"]]))[message["id"]]
    media = await repository.media_of(connection, message["id"]) if message["is_mms"] else []
    return message, receipts, media


async def page(
    connection: Connection, account: Account, *, start: int, end: int, limit: int, offset: int
) -> tuple[list[tuple[Row, list[Row]]], bool]:
    rows = await repository.page(connection, account.id, start=start, end=end, limit=limit + 1, offset=offset)
    shown = rows[:limit]
    receipts = await repository.receipts_of(connection, [row["id"] for row in shown])
    return [(row, receipts[row["id"]]) for row in shown], len(rows) > limit


async def media_content(connection: Connection, account: Account, public_id: str) -> Row:
    row = await repository.media_content(connection, public_id, account.id)
    if row is None:
        raise NotFound(f"media {public_id} was not found on this account")
    return row
