"""The console's search box, in Mailpit's spirit: free text plus `to:`, `from:`, `status:`,
`direction:`, `is:mms` (or `is:sms`), `after:` and `before:` (dates or ISO 8601 times). Quotes group
words (`status:"smsc submit"`, `"see you"`). Every term must match. Pure: no I/O."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from telroute.errors import BadRequest
from telroute.kit.clock import parse_date
from telroute.messages.model import STATUSES

MAX_TERMS = 8
_DIRECTIONS = ("inbound", "outbound")


@dataclass(frozen=True, slots=True)
class Query:
    to_number: str | None = None
    from_number: str | None = None
    status: str | None = None
    direction: str | None = None
    is_mms: bool | None = None
    after: int | None = None
    before: int | None = None
    words: tuple[str, ...] = field(default=())


def _invalid(detail: str) -> BadRequest:
    return BadRequest(detail, parameter="q", code="invalid_search")


def _number(value: str, name: str) -> str:
    digits = "".join(char for char in value if char.isdigit())
    if not digits:
        raise _invalid(f"{name}: needs a phone number, e.g. {name}:12065550100")
    return digits


def _time(value: str, name: str) -> int:
    try:
        return parse_date(value)
    except (ValueError, OverflowError) as exc:
        raise _invalid(f"{name}: needs a date (YYYY-MM-DD) or an ISO 8601 time") from exc


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value.lower() not in allowed:
        raise _invalid(f"{name}: must be one of {', '.join(allowed)}")
    return value.lower()


def _is(value: str) -> bool:
    if value.lower() not in ("mms", "sms"):
        raise _invalid("is: must be is:mms or is:sms")
    return value.lower() == "mms"


def _apply(query: dict[str, object], words: list[str], term: str) -> None:
    name, colon, value = term.partition(":")
    name = name.lower()
    if not colon or name not in ("to", "from", "status", "direction", "is", "after", "before"):
        words.append(term)
        return
    if name in ("to", "from"):
        query[f"{name}_number"] = _number(value, name)
    elif name == "status":
        query["status"] = _choice(value, "status", STATUSES)
    elif name == "direction":
        query["direction"] = _choice(value, "direction", _DIRECTIONS)
    elif name == "is":
        query["is_mms"] = _is(value)
    else:
        query[name] = _time(value, name)


def parse(text: str) -> Query:
    try:
        terms = shlex.split(text)
    except ValueError as exc:
        raise _invalid("the search has an unclosed quote") from exc
    if len(terms) > MAX_TERMS:
        raise _invalid(f"at most {MAX_TERMS} search terms")
    fields: dict[str, object] = {}
    words: list[str] = []
    for term in terms:
        _apply(fields, words, term)
    return Query(words=tuple(words), **fields)  # type: ignore[arg-type]
