"""CPU time to build and encode the response documents of the hot paths, in-process (no HTTP, no database):
200 available numbers (GET /v2/numbers/available), 100 MDRs with two receipts each (GET /v2.1/messages)
and the 202 body of POST /v2.1/messages. Reports the best of 15 rounds of process CPU time, which a
machine shared with other work disturbs far less than wall time, and the size of each document.

To compare two versions, run it with PYTHONPATH pointing at each version's `src`.

Usage: .venv/bin/python benchmarks/rendering.py
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from telroute.kit import jsonapi
from telroute.messages import schemas as message_schemas
from telroute.numbers import schemas as number_schemas

BASE = "http://127.0.0.1:8080"
_NUMBERS = [
    {
        "value": f"1206215{index:04d}",
        "rate_center": "seattle",
        "monthly_cost_nd": 1_250_000_000,
        "state": "wa",
        "number_type": "standard",
        "setup_cost_nd": 1_000_000_000,
    }
    for index in range(200)
]
_MESSAGES = [
    {
        "public_id": f"mdr2-{index:032x}",
        "body": "hello there",
        "status": "delivered",
        "direction": "outbound",
        "amount_nd": 4_000_000,
        "to_number": "12065550100",
        "from_number": "12062150641",
        "message_encoding": 0,
        "created_at_us": 1_700_000_000_000_000 + index,
        "is_mms": 0,
        "message_type": "longcode",
    }
    for index in range(100)
]
_RECEIPTS: list[Mapping[str, Any]] = [
    {"status": "smsc submit", "status_code": None, "description": "Message sent", "created_at_us": 1, "level": 1},
    {"status": "delivered", "status_code": 1000, "description": "Delivered", "created_at_us": 2, "level": 2},
]
_LINKS = {"self": f"{BASE}/v2/numbers/available?limit=200&offset=0", "next": f"{BASE}/v2/numbers/available?o=1"}


def available() -> bytes:
    items = [number_schemas.available_number(row, BASE) for row in _NUMBERS]
    return jsonapi.encode(number_schemas.available_numbers(items, _LINKS))


def messages() -> bytes:
    items = [message_schemas.mdr(row, _RECEIPTS) for row in _MESSAGES]
    return jsonapi.encode(message_schemas.messages_page(items, _LINKS))


def accepted() -> bytes:
    return jsonapi.encode(message_schemas.accepted("mdr2-" + "a" * 32, BASE))


def best_cpu_seconds(render: Callable[[], bytes], repeat: int) -> float:
    rounds = []
    for _ in range(15):
        started = time.process_time()
        for _ in range(repeat):
            render()
        rounds.append((time.process_time() - started) / repeat)
    return min(rounds)


def main() -> None:
    cases = (
        ("GET /v2/numbers/available, 200 numbers", available, 300),
        ("GET /v2.1/messages, 100 MDRs", messages, 300),
        ("POST /v2.1/messages, the 202 body", accepted, 100_000),
    )
    for name, render, repeat in cases:
        print(f"{name}: {best_cpu_seconds(render, repeat) * 1e6:.2f} us CPU, {len(render())} bytes")


if __name__ == "__main__":
    main()
