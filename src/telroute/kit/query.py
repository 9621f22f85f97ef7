"""A request's query parameters, parsed once per distinct query string in this process.

Clients repeat the same few queries (a search, a page of messages), and parsing one into Starlette's
`QueryParams` costs several microseconds of an otherwise cached answer. The parsed parameters are
immutable, so requests with the same raw query string share them. Long query strings are parsed each
time, and a full table starts over, so what is kept stays small. The table is the process's, shared by the
threads of a test run's in-process servers: it is only ever read, added to and cleared, each atomic.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import Request

MAX_KEPT = 1_024
MAX_KEPT_LENGTH = 256

_parsed: dict[bytes, QueryParams] = {}


def query_params(request: Request) -> QueryParams:
    raw: bytes = request.scope["query_string"]
    known = _parsed.get(raw)
    if known is not None:
        return known
    params = QueryParams(raw)
    if len(raw) <= MAX_KEPT_LENGTH:
        if len(_parsed) >= MAX_KEPT:
            _parsed.clear()
        _parsed[raw] = params
    return params
