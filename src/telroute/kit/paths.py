"""Path parameters that name a resource by number: anything but 1-18 ASCII digits names nothing (404)."""

from __future__ import annotations

from starlette.requests import Request

from telroute.errors import NotFound


def path_id(request: Request, name: str, what: str) -> int:
    raw = str(request.path_params[name])
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"{what} {raw} was not found on this account")
    return int(raw)
