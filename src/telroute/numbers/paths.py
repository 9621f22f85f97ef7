"""The `{number}` path parameter of a number's relationships, for the features that add some."""

from __future__ import annotations

from starlette.requests import Request

from telroute.errors import BadRequest
from telroute.numbers.model import normalize_number


def path_number(request: Request) -> str:
    raw = str(request.path_params["number"])
    try:
        return normalize_number(raw)
    except ValueError as exc:
        raise BadRequest(f"{raw!r} is not a valid phone number: {exc}", parameter="id") from exc
