"""Pure rules of the sandbox API: message filters, the wait timeout, the new-account request. No I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from telroute.errors import BadRequest, Unprocessable
from telroute.kit.clock import parse_date
from telroute.messages.model import STATUSES
from telroute.numbers.model import normalize_number

DIRECTIONS = ("inbound", "outbound")
FILTER_NAMES = ("direction", "to", "from", "status", "contains", "after", "before")
PAGE_NAMES = ("limit", "offset")
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0
MAX_CONTAINS = 200
MAX_NUMBERS = 10


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_moment(us: int) -> str:
    """`2026-12-06T16:00:00.123456Z`: to the microsecond, and without a `+` that a query string would eat."""
    return (_EPOCH + timedelta(microseconds=us)).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class MessageFilters:
    """What a search or a wait matches; None: any. `after`/`before` are microseconds since the epoch."""

    direction: str | None = None
    to: str | None = None
    from_: str | None = None
    status: str | None = None
    contains: str | None = None
    after: int | None = None
    before: int | None = None

    def query(self) -> dict[str, str | None]:
        """The filters as query parameters (for links and messages)."""
        return query_of(self)

    def describe(self) -> str:
        return describe(self.query(), "any message")


def query_of(filters: Any) -> dict[str, str | None]:
    """A dataclass of filters as query parameters: `after` and `before` as moments, the rest as text."""
    values = {field.name.rstrip("_"): getattr(filters, field.name) for field in fields(filters)}
    for name in ("after", "before"):
        if values[name] is not None:
            values[name] = format_moment(values[name])
    return {name: None if value is None else str(value) for name, value in values.items()}


def describe(query: dict[str, str | None], anything: str) -> str:
    chosen = [f"{name}={value!r}" for name, value in query.items() if value is not None]
    return ", ".join(chosen) or f"no filters ({anything})"


def text(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    return None if raw is None or raw.strip() == "" else raw.strip()


def one_of(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = text(params, name)
    if value is not None and value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)} (got {value!r})", parameter=name)
    return value


def _number(params: Mapping[str, str], name: str) -> str | None:
    value = text(params, name)
    if value is None:
        return None
    try:
        return normalize_number(value)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}", parameter=name) from exc


def time_of(params: Mapping[str, str], name: str) -> int | None:
    value = text(params, name)
    if value is None:
        return None
    try:
        return parse_date(value)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time", parameter=name) from exc


def _contains(params: Mapping[str, str]) -> str | None:
    value = params.get("contains")
    if value is None or value == "":
        return None
    if len(value) > MAX_CONTAINS:
        raise Unprocessable(f"contains must be at most {MAX_CONTAINS} characters", parameter="contains")
    return value


def refuse_unknown(params: Mapping[str, str], known: tuple[str, ...]) -> None:
    """A misspelt filter would silently match everything: refuse names this endpoint does not know."""
    for name in params:
        if name not in known:
            raise BadRequest(f"unknown query parameter {name!r}; known: {', '.join(known)}", parameter=name)


def parse_filters(params: Mapping[str, str]) -> MessageFilters:
    filters = MessageFilters(
        direction=one_of(params, "direction", DIRECTIONS),
        to=_number(params, "to"),
        from_=_number(params, "from"),
        status=one_of(params, "status", STATUSES),
        contains=_contains(params),
        after=time_of(params, "after"),
        before=time_of(params, "before"),
    )
    require_order(filters.after, filters.before)
    return filters


def require_order(after: int | None, before: int | None) -> None:
    if after is not None and before is not None and before <= after:
        raise Unprocessable("before must be later than after", parameter="before")


def parse_timeout(raw: str | None) -> float:
    """Seconds to wait: default 10, at most 60; 400 when not a number, 422 when out of range."""
    if raw is None or raw.strip() == "":
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise BadRequest(f"timeout must be a number of seconds (got {raw!r})", parameter="timeout")
    if seconds < 0 or seconds > MAX_TIMEOUT:
        raise Unprocessable(f"timeout must be between 0 and {MAX_TIMEOUT:g} seconds", parameter="timeout")
    return seconds


def describe_arrivals(messages: list[Mapping[str, Any]]) -> str:
    """What did arrive, newest first, for a wait that timed out."""
    if not messages:
        return "the account has no messages"
    lines = [
        f"{row['direction']} {row['from_number']} -> {row['to_number']} [{row['status']}]: {row['body']!r}"
        for row in messages
    ]
    return "the account's newest messages: " + "; ".join(lines)


@dataclass(frozen=True, slots=True)
class NewAccountRequest:
    name: str
    count: int  # numbers to pick from the inventory (in `area_code` when given)
    wanted: tuple[str, ...]  # specific numbers to buy
    area_code: str | None  # `1206`: the prefix of the numbers picked
    callbacks: dict[str, str | None]  # callback type -> URL, not yet checked for reachability


def _name(raw: Any, pointer: str) -> str:
    if raw is None:
        return "sandbox"
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 100:
        raise BadRequest("name must be a non-empty string of at most 100 characters", pointer=f"{pointer}/name")
    return raw.strip()


def _count_or_numbers(raw: Any, pointer: str) -> tuple[int, tuple[str, ...]]:
    where = f"{pointer}/numbers"
    if raw is None:
        return 0, ()
    if isinstance(raw, int) and not isinstance(raw, bool):
        if not 0 <= raw <= MAX_NUMBERS:
            raise Unprocessable(f"numbers must be between 0 and {MAX_NUMBERS}", pointer=where)
        return raw, ()
    if not isinstance(raw, list) or len(raw) > MAX_NUMBERS:
        raise BadRequest(f"numbers must be a count or a list of at most {MAX_NUMBERS} phone numbers", pointer=where)
    wanted: list[str] = []
    for index, item in enumerate(raw):
        try:
            wanted.append(normalize_number(item if isinstance(item, str) else ""))
        except ValueError as exc:
            raise BadRequest(f"numbers[{index}]: {exc}", pointer=f"{where}/{index}") from exc
    if len(set(wanted)) != len(wanted):
        raise Unprocessable("numbers must not repeat a number", pointer=where)
    return 0, tuple(wanted)


def _area_code(raw: Any, pointer: str, count: int) -> str | None:
    if raw is None:
        return None
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str) or len(text) != 3 or not text.isascii() or not text.isdigit() or text[0] in "01":
        raise BadRequest(
            "area_code must be 3 digits not starting with 0 or 1, e.g. 206", pointer=f"{pointer}/area_code"
        )
    if count == 0:
        raise Unprocessable("area_code needs numbers: N (how many to buy)", pointer=f"{pointer}/area_code")
    return "1" + text


def _callbacks(raw: Any, pointer: str, known: tuple[str, ...]) -> dict[str, str | None]:
    where = f"{pointer}/callbacks"
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadRequest(f"callbacks must be an object with any of {', '.join(known)}", pointer=where)
    for name in raw:
        if name not in known:
            raise BadRequest(f"unknown callback type {name!r}; known: {', '.join(known)}", pointer=f"{where}/{name}")
    return {name: (None if url in (None, "") else url) for name, url in raw.items()}


def new_account_request(
    name: Any, numbers: Any, area_code: Any, callbacks: Any, *, pointer: str, callback_types: tuple[str, ...]
) -> NewAccountRequest:
    count, wanted = _count_or_numbers(numbers, pointer)
    return NewAccountRequest(
        name=_name(name, pointer),
        count=count,
        wanted=wanted,
        area_code=_area_code(area_code, pointer, count),
        callbacks=_callbacks(callbacks, pointer, callback_types),
    )
