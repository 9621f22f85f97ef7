"""The numbers of a portability check, read as the clients send them.

The Python SDK posts a form (`numbers=+1...&numbers=+1...`, from `requests`' `data=`), Flowroute's
reference a JSON object (`{"numbers": [...]}`); a string may hold several numbers, comma-delimited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec

from telroute.errors import BadRequest, Unprocessable
from telroute.kit.http import attributes_of, parse_json
from telroute.kit.inputs import typed

MAX_NUMBERS = 500
_FORM = "application/x-www-form-urlencoded"
_FORM_KEYS = ("numbers", "numbers[]")
NumberList = Annotated[list[str | int], msgspec.Meta(min_length=1)]
NumberText = Annotated[str, msgspec.Meta(min_length=1, description="One number, or several comma-delimited.")]


class PortabilityBody(msgspec.Struct):
    """The numbers to check, as JSON (flat or JSON:API attributes) or a form with `numbers` repeated."""

    numbers: Annotated[
        NumberList | NumberText, msgspec.Meta(description=f"At most {MAX_NUMBERS} distinct numbers (else 422).")
    ]


def numbers_of(raw: bytes, content_type: str) -> list[str]:
    """The numbers asked about, in order, each once, as given (trimmed)."""
    return _distinct(_from_form(raw) if _is_form(raw, content_type) else _from_json(raw))


def _distinct(given: list[str]) -> list[str]:
    numbers = list(dict.fromkeys(part.strip() for value in given for part in value.split(",") if part.strip()))
    if not numbers:
        raise Unprocessable("numbers must list at least one phone number", pointer="/numbers")
    if len(numbers) > MAX_NUMBERS:
        raise Unprocessable(f"numbers may list at most {MAX_NUMBERS} phone numbers", pointer="/numbers")
    return numbers


def _is_form(raw: bytes, content_type: str) -> bool:
    # curl's `-d '{...}'` labels JSON as a form: a body that opens an object is JSON whatever its label.
    return content_type.split(";")[0].strip().lower() == _FORM and not raw.lstrip().startswith(b"{")


def _from_form(raw: bytes) -> list[str]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("request body is not a valid UTF-8 form", pointer="") from exc
    values = [value for key, value in pairs if key in _FORM_KEYS or _indexed(key)]
    if any("\x00" in value for value in values):
        raise BadRequest("numbers must not contain NUL characters", pointer="/numbers")
    # An unencoded `+` in a form reads as a space: the strip in numbers_of takes it off again.
    return values


def _indexed(key: str) -> bool:
    return key.startswith("numbers[") and key.endswith("]") and key[8:-1].isdigit()


def _from_json(raw: bytes) -> list[str]:
    """The numbers of a JSON body; when `PortabilityBody` refuses them, the 422s they always had."""
    attributes, pointer = attributes_of(parse_json(raw))
    body = typed(attributes, PortabilityBody, pointer, rules=lambda _: _distinct(_given(attributes, pointer)))
    return [body.numbers] if isinstance(body.numbers, str) else [str(item) for item in body.numbers]


def _given(attributes: Mapping[str, Any], pointer: str) -> list[str]:
    value: Any = attributes.get("numbers")
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise Unprocessable("numbers is required: a list of phone numbers", pointer=f"{pointer}/numbers")
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise Unprocessable("each number must be a string", pointer=f"{pointer}/numbers/{index}")
    return [str(item) for item in value]
