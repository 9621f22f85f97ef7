"""CPU time to read a POST /v2.1/messages body into a validated send request, in-process (no HTTP, no
database): JSON bytes -> attributes -> typed Struct -> the ordered rules. Four bodies: a flat SMS, a
JSON:API SMS, an MMS with three media URLs and a refused one (a number where `to` belongs). Reports the
best of 15 rounds of process CPU time per body, in microseconds.

Usage: .venv/bin/python benchmarks/send_decode.py
"""

from __future__ import annotations

import time

import msgspec

from telroute.errors import TelrouteError
from telroute.kit.http import attributes_of, parse_json
from telroute.messages import service

_SMS = {"to": "12065550100", "from": "12062150641", "body": "hello there, this is a text message"}
_MMS = {**_SMS, "is_mms": "true", "media_urls": [f"https://cdn.example/{index}.gif" for index in range(3)]}
BODIES = {
    "flat sms": msgspec.json.encode(_SMS),
    "json:api sms": msgspec.json.encode({"data": {"type": "message", "attributes": _SMS}}),
    "mms, 3 urls": msgspec.json.encode(_MMS),
    "refused (to: [])": msgspec.json.encode({**_SMS, "to": []}),
}
ROUNDS = 15
CALLS = 2_000


def decode(raw: bytes) -> object:
    attributes, pointer = attributes_of(parse_json(raw))
    try:
        return service.validate_send(attributes, pointer)
    except TelrouteError as exc:
        return exc


def best_microseconds(raw: bytes) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(CALLS):
            decode(raw)
        best = min(best, time.process_time() - started)
    return best / CALLS * 1e6


def main() -> None:
    for name, raw in BODIES.items():
        print(f"{name:<20} {len(raw):>4} bytes {best_microseconds(raw):7.2f} us")


if __name__ == "__main__":
    main()
