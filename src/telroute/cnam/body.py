"""The body of a new preset: form-encoded (the Python SDK) or JSON, flat (the Node SDK) or JSON:API."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from telroute.cnam.model import CnamBody
from telroute.errors import BadRequest
from telroute.kit.http import attributes_of, convert, parse_json, read_body

FORM = "application/x-www-form-urlencoded"


def _form(raw: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"form body is malformed: {exc}", pointer="") from exc
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise BadRequest(f"form field {key} is given twice", pointer=f"/{key}")
        if "\x00" in value:
            raise BadRequest("form fields must not contain NUL characters", pointer=f"/{key}")
        fields[key] = value
    return fields


async def read_preset(request: Request) -> tuple[CnamBody, str]:
    """The body and the pointer to its `value`."""
    raw = await read_body(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM:
        return convert(_form(raw), CnamBody, ""), "/value"
    attributes, pointer = attributes_of(parse_json(raw))
    return convert(attributes, CnamBody, pointer), f"{pointer}/value"
