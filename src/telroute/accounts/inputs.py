"""The body that sets a messaging callback (an account's or a number's), as an input Struct: the OpenAPI
request component `CallbackRequest`, read flat or as JSON:API attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from telroute.kit.inputs import typed
from telroute.kit.outbound import MAX_URL_LENGTH, validate_url

CallbackUrl = Annotated[
    str, msgspec.Meta(max_length=MAX_URL_LENGTH, description='An absolute http(s) URL; `null` or `""` clears it.')
]


class CallbackBody(msgspec.Struct):
    callback_url: CallbackUrl | None


def callback_body(attributes: Mapping[str, Any], pointer: str) -> CallbackBody:
    """A URL too long gets the error of `validate_url`, at `/callback_url`, as it always did."""
    return typed(attributes, CallbackBody, pointer, rules=_callback_rules, strict=False)


def _callback_rules(raw: Any) -> None:
    if isinstance(raw.callback_url, str):
        validate_url(raw.callback_url, name="callback_url", pointer="/callback_url")
