"""The request bodies of messaging as input Structs: what `POST /v2.1/messages` (and v2.2's) and the
sandbox's `POST /sandbox/inbound` accept. Their types and `Meta` are the OpenAPI request components;
the ordered rules of `service.py` still decide what is refused first, and how."""

from __future__ import annotations

from typing import Annotated, Protocol

import msgspec

from telroute.kit.outbound import MAX_URL_LENGTH
from telroute.kit.wire import PHONE_NUMBER_INPUT
from telroute.messages.model import MAX_BODY_CHARACTERS, MAX_MEDIA_URLS

REPLY_TO_MAX = 100

# `to` carries the pattern `numbers.model.normalize_number` applies (else 422); `from` does not: a `from`
# this account does not own, well-formed or not, is a 403 (`service.check_sender`).
Number = Annotated[str, msgspec.Meta(pattern=PHONE_NUMBER_INPUT)] | Annotated[int, msgspec.Meta(ge=0)]
AnyNumber = Annotated[str, msgspec.Meta(min_length=1)] | int
Text = Annotated[str, msgspec.Meta(max_length=MAX_BODY_CHARACTERS)]
InputUrl = Annotated[str, msgspec.Meta(max_length=MAX_URL_LENGTH, description="An absolute http(s) URL.")]
MediaUrls = Annotated[list[InputUrl], msgspec.Meta(max_length=MAX_MEDIA_URLS)]
IsMms = bool | Annotated[str, msgspec.Meta(description='`"true"` or `"false"`, in any case.')]


class SendAttributes(msgspec.Struct, rename={"from_": "from"}):
    """Other keys are ignored. `is_mms` is implied by `media_urls`; an SMS needs `body`, an MMS `body` or
    `media_urls`."""

    to: Annotated[Number, msgspec.Meta(description="A NANP number: 11 or 10 digits, or `+1` and 10 digits.")]
    from_: Annotated[AnyNumber, msgspec.Meta(description="A number this account owns (else 403).")]
    body: Text | None = None
    is_mms: IsMms | None = None
    media_urls: MediaUrls | None = None
    dlr_callback: InputUrl | None = None


E164 = r"^\+[1-9]\d{1,14}$"
E164Input = Annotated[str, msgspec.Meta(pattern=E164)]


class SendAttributesV22(SendAttributes, rename={"from_": "from"}):
    """v2.2's send: v2.1's attributes with E.164 numbers, which `views.V22.numbers_in` turns into v2.1's
    (a number that is not: 422) before `SendAttributes` reads them."""

    to: Annotated[E164Input, msgspec.Meta(description="E.164, e.g. `+12065551234`.")]
    from_: Annotated[E164Input, msgspec.Meta(description="E.164; a number this account owns (else 403).")]


class InboundAttributes(msgspec.Struct, rename={"from_": "from"}):
    """A message as a carrier would deliver it: `body` and/or `media_urls`; `from` and `to` are required
    unless `reply_to` names the outbound message answered (then they are its `to` and `from`)."""

    to: (
        Annotated[str, msgspec.Meta(min_length=1, description="A number an account on this server owns (else 404).")]
        | None
    ) = None
    from_: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    body: Text | None = None
    media_urls: MediaUrls | None = None
    reply_to: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=REPLY_TO_MAX, description="An outbound message's id.")]
        | None
    ) = None


class InboundFields(Protocol):
    """What the inbound rules read: decoded InboundAttributes, or the raw values msgspec refused."""

    @property
    def to(self) -> object: ...
    @property
    def from_(self) -> object: ...
    @property
    def body(self) -> object: ...
    @property
    def media_urls(self) -> object: ...


class SendFields(InboundFields, Protocol):
    """What the send rules read: decoded SendAttributes, or the raw values msgspec refused."""

    @property
    def is_mms(self) -> object: ...
    @property
    def dlr_callback(self) -> object: ...
