"""Reading requests: bodies as JSON whatever the Content-Type, flat or JSON:API shaped."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from telroute.errors import BadRequest, PayloadTooLarge

T = TypeVar("T")
MAX_BODY_BYTES = 1_048_576
_MAX_DEPTH = 32


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.raw_body = body
    return body


def _depth(raw: bytes) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            escaped = not escaped and byte == 0x5C
            in_string = escaped or byte != 0x22
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse_json(raw: bytes, *, allow_empty: bool = False) -> Any:
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest("request body is empty; a JSON object was expected", pointer="")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("request body is not valid UTF-8", pointer="") from exc
    # A body cannot nest deeper than it has brackets: counting them (in C) spares most bodies the scan.
    if raw.count(b"{") + raw.count(b"[") > _MAX_DEPTH and _depth(raw) > _MAX_DEPTH:
        raise BadRequest(f"request body is nested deeper than {_MAX_DEPTH} levels", pointer="")
    try:
        document = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", pointer="") from exc
    if b"\\u0000" in raw:  # only an escape can put NUL in a JSON string; PostgreSQL text cannot hold it
        _refuse_nul(document, "")
    return document


def _refuse_nul(value: Any, pointer: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest("strings must not contain NUL characters (\\u0000)", pointer=pointer)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, pointer)
            _refuse_nul(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{pointer}/{index}")


def attributes_of(body: Any) -> tuple[dict[str, Any], str]:
    """The attributes of a flat body or of a JSON:API `data.attributes` body, and their pointer."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object", pointer="")
    data = body.get("data")
    if isinstance(data, dict):
        attributes = data.get("attributes", {})
        if not isinstance(attributes, dict):
            raise BadRequest("data.attributes must be an object", pointer="/data/attributes")
        return attributes, "/data/attributes"
    if data is not None:
        raise BadRequest("data must be an object", pointer="/data")
    return body, ""


def convert(attributes: dict[str, Any], target: type[T], pointer: str) -> T:
    try:
        return msgspec.convert(attributes, type=target, strict=False)
    except msgspec.ValidationError as exc:
        raise refusal(exc, pointer) from exc


def refusal(exc: msgspec.ValidationError, pointer: str) -> BadRequest:
    """msgspec's refusal as a 400 pointing at the field its message names (`... - at `$.data.zip``), or
    at the unknown field it found; a path into an array points at the array."""
    message = str(exc)
    names = _names(message.rsplit("`$.", 1)[-1].rstrip("`")) if "`$." in message else []
    if message.startswith("Object contains unknown field `") and "[" not in message:
        names.append(message.removeprefix("Object contains unknown field `").partition("`")[0])
    return BadRequest(message.replace("`$.", "`"), pointer="/".join([pointer, *names]))


def _names(at: str) -> list[str]:
    names = []
    for part in at.split("."):
        name, bracket, _ = part.partition("[")
        names.append(name)
        if bracket:
            break
    return names


async def read_raw_attributes(
    request: Request, limit: int = MAX_BODY_BYTES, *, allow_empty: bool = False
) -> tuple[dict[str, Any], str]:
    """The body's attributes, flat or JSON:API, not yet typed, and their pointer (for a resource's own reader)."""
    return attributes_of(parse_json(await read_body(request, limit), allow_empty=allow_empty))


async def read_attributes(request: Request, target: type[T], *, allow_empty: bool = False) -> T:
    attributes, pointer = await read_raw_attributes(request, allow_empty=allow_empty)
    return convert(attributes, target, pointer)
