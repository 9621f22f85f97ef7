"""The wire shapes of the sandbox tools: the new-account body, and the account, message and fault records
as Structs, rendered with msgspec and the source of their OpenAPI components."""

from __future__ import annotations

from typing import Annotated, Literal, cast

import msgspec

from telroute.kit.db import Row
from telroute.kit.wire import PHONE_NUMBER_INPUT, MessageId, PageLinks, PhoneNumber, SelfLink, Url, page_links
from telroute.messages.inputs import InputUrl
from telroute.messages.schemas import MdrAttributes, mdr_attributes
from telroute.sandbox_tools.codes import one_time_codes
from telroute.sandbox_tools.model import MAX_NUMBERS, format_moment

CallbackType = Literal["sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback", "dlr_callback"]
Moment = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
OneTimeCode = Annotated[str, msgspec.Meta(pattern=r"^\d{4,8}$")]


_NUMBERS = "How many numbers to buy from the inventory, or which ones (NANP numbers)."
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_NUMBERS)]
WantedNumber = Annotated[str, msgspec.Meta(pattern=PHONE_NUMBER_INPUT)]
WantedNumbers = Annotated[list[WantedNumber], msgspec.Meta(max_length=MAX_NUMBERS)]
AreaCode = Annotated[
    Annotated[str, msgspec.Meta(pattern=r"^[2-9][0-9]{2}$")] | Annotated[int, msgspec.Meta(ge=200, le=999)],
    msgspec.Meta(description="Where to pick the `numbers: N` from, e.g. 206."),
]


class NewAccountAttributes(msgspec.Struct):
    """Refusals come from `model.new_account_request`'s ordered rules, each pointing at its field. Other keys
    are ignored, as in every request body. `area_code` (e.g. 206) needs `numbers` as a count."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    numbers: Annotated[Count | WantedNumbers, msgspec.Meta(description=_NUMBERS)] | None = None
    area_code: AreaCode | None = None
    callbacks: dict[CallbackType, InputUrl | None] | None = None


class _Closed(msgspec.Struct, forbid_unknown_fields=True):
    """Response shapes: their schema allows no other keys."""


class SandboxAccountAttributes(_Closed):
    name: str
    access_key: str
    secret_key: str
    numbers: list[PhoneNumber]
    callbacks: dict[CallbackType, Url]


class SandboxAccountResource(_Closed, tag_field="type", tag="sandbox_account"):
    id: str
    attributes: SandboxAccountAttributes
    links: SelfLink


class SandboxAccount(_Closed):
    data: SandboxAccountResource


class SandboxMessageAttributes(MdrAttributes, forbid_unknown_fields=True):
    codes: Annotated[list[OneTimeCode], msgspec.Meta(description="One-time codes found in the body.")]
    in_reply_to: Annotated[
        MessageId | None, msgspec.Meta(description="The outbound message this one replies to (`reply_to`).")
    ]


class SandboxMessage(_Closed, tag_field="type", tag="message"):
    id: MessageId
    attributes: SandboxMessageAttributes
    links: SelfLink


class SandboxMessageDocument(_Closed):
    data: SandboxMessage


class SandboxMessages(_Closed):
    data: list[SandboxMessage]
    links: PageLinks


class SandboxFaultAttributes(_Closed, kw_only=True):
    """`receipt_delay`, `status_code` and `description`: delivery rules only; `delay`: API rules only."""

    kind: Literal["delivery", "api"]
    match: str
    outcome: str | int
    receipt_delay: float | msgspec.UnsetType | None = msgspec.UNSET
    delay: float | msgspec.UnsetType | None = msgspec.UNSET
    remaining: Annotated[int, msgspec.Meta(ge=0, description="Uses left; null: no count.")] | None
    share: float | None
    expires_at: Moment | None
    created_at: Moment
    status_code: int | msgspec.UnsetType | None = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET


class SandboxFault(_Closed, tag_field="type", tag="sandbox_fault"):
    id: str
    attributes: SandboxFaultAttributes
    links: SelfLink


class SandboxFaultDocument(_Closed):
    data: SandboxFault


class SandboxFaults(_Closed):
    data: list[SandboxFault]


# The documents the sandbox contract answers with (their parts are components too).
DOCUMENTS = (SandboxAccount, SandboxMessageDocument, SandboxMessages, SandboxFaultDocument, SandboxFaults)


def account_document(
    access_key: str, secret_key: str, name: str, numbers: list[str], callbacks: dict[str, str], base: str
) -> SandboxAccount:
    typed = cast(dict[CallbackType, str], callbacks)
    attributes = SandboxAccountAttributes(name, access_key, secret_key, numbers, typed)
    links = SelfLink(f"{base}/sandbox/accounts/{access_key}")
    return SandboxAccount(SandboxAccountResource(id=access_key, attributes=attributes, links=links))


def message_record(message: Row, receipts: list[Row], base: str) -> SandboxMessage:
    """An MDR as `GET /v2.1/messages/{id}` renders it, plus the one-time codes found in its body and the
    outbound message it replies to (`in_reply_to`, a reply injected with `reply_to`)."""
    fields = msgspec.structs.asdict(mdr_attributes(message, receipts))
    codes = one_time_codes(message["body"])
    attributes = SandboxMessageAttributes(**fields, codes=codes, in_reply_to=message["in_reply_to"])
    return SandboxMessage(message["public_id"], attributes, SelfLink(f"{base}/v2.1/messages/{message['public_id']}"))


def messages_page(items: list[SandboxMessage], links: dict[str, str]) -> SandboxMessages:
    return SandboxMessages(data=items, links=page_links(links))


def _moment(us: int | None) -> str | None:
    return None if us is None else format_moment(us)


def fault_record(row: Row, base: str) -> SandboxFault:
    """A fault rule as `/sandbox/faults` renders it; `seconds` is the receipt delay of a delivery rule and
    the delay of an API rule."""
    delivery = row["kind"] == "delivery"
    attributes = SandboxFaultAttributes(
        kind=row["kind"],
        match=row["match_value"],
        outcome=row["outcome"] if delivery else _api_outcome(row["outcome"]),
        remaining=row["remaining"],
        share=row["share"],
        expires_at=_moment(row["expires_at_us"]),
        created_at=format_moment(row["created_at_us"]),
    )
    if delivery:
        attributes.receipt_delay = row["seconds"]
        attributes.status_code = row["status_code"]
        attributes.description = row["description"]
    else:
        attributes.delay = row["seconds"]
    links = SelfLink(f"{base}/sandbox/faults/{row['id']}")
    return SandboxFault(id=str(row["id"]), attributes=attributes, links=links)


def _api_outcome(stored: str) -> int | str:
    return int(stored) if stored.isdigit() else stored
